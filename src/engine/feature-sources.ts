/**
 * Where the engine gets the feature models' files: the hub through the studio's own `HubSource`
 * (resumable, checked, kept in the model cache, so they are listed and removable like any cached
 * model) or, in Node, a folder. Sizes are told before anything downloads (cache, else HEAD).
 */
import { errorMessage, StudioError } from '../common/errors';
import { DEFAULT_CLIP_REPO, DEFAULT_DINO_REPO, DEFAULT_HUB_ENDPOINT, type FeatureModelSource, type FeatureModelStatus } from '../features/types';
import type { FeatureFiles } from '../features/transformers-runtime';
import { FeatureModels, type FeatureModelFiles } from '../features/feature-models';
import type { JobContext } from './protocol';
import { cancelled } from './cancelled';
import { cacheKey, deleteCachedModel, listCachedModels, type ModelCache } from '../model/sources/cache';
import { HubSource } from '../model/sources/hub';
import type { Timeouts } from '../model/sources/http';
import { ModelSourceError, type FileEvent, type ModelSource } from '../model/sources/types';

export type FeatureRole = 'clip' | 'dino';

/** The fp32 files transformers.js reads for each role (CLIP: the two halves with projection). */
export const FEATURE_FILES: Readonly<Record<FeatureRole, readonly string[]>> = {
  clip: ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx'],
  dino: ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'],
};

const ROLES: readonly FeatureRole[] = ['clip', 'dino'];

export interface FeatureSourceDeps {
  cache: ModelCache | null;
  downloads: Timeouts;
  /** Node (CLI, tests): a folder as a model source; absent in the browser. */
  folder?: (root: string) => ModelSource;
}

interface Resolved {
  role: FeatureRole;
  /** Repo id or folder. */
  repo: string;
  source: ModelSource;
  /** Hub files are keyed in the model cache under these. */
  hub?: { endpoint: string; revision: string };
}

export const DEFAULT_FEATURE_SOURCE: FeatureModelSource = { kind: 'hub' };

function resolve(spec: FeatureModelSource, deps: FeatureSourceDeps): Resolved[] {
  if (spec.kind === 'folder') {
    if (!deps.folder) throw new StudioError('InvalidRequest', 'Feature models from a folder load only in the command line.');
    return ROLES.map((role) => ({ role, repo: spec[role], source: deps.folder!(spec[role]) }));
  }
  const endpoint = (spec.endpoint?.trim() || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const revision = spec.revision?.trim() || 'main';
  const repos = { clip: spec.clip?.trim() || DEFAULT_CLIP_REPO, dino: spec.dino?.trim() || DEFAULT_DINO_REPO };
  return ROLES.map((role) => {
    try {
      return { role, repo: repos[role], hub: { endpoint, revision }, source: new HubSource({ ...deps.downloads, repo: repos[role], revision, baseUrl: endpoint, cache: deps.cache }) };
    } catch (error) {
      throw new StudioError('InvalidRequest', errorMessage(error), 'Give the feature models as owner/name repo ids.');
    }
  });
}

async function cachedSize(r: Resolved, path: string, cache: ModelCache | null): Promise<number | undefined> {
  if (!r.hub) return undefined;
  return (await cache?.match(cacheKey(r.hub.endpoint, r.repo, r.hub.revision, path)))?.size;
}

/** Each model's bytes and whether all of its files are at hand; only HEAD requests for files not cached. */
export async function featureModelStatus(spec: FeatureModelSource, deps: FeatureSourceDeps, signal?: AbortSignal): Promise<FeatureModelStatus[]> {
  return Promise.all(resolve(spec, deps).map(async (r) => {
    let bytes = 0;
    let cached = true;
    for (const path of FEATURE_FILES[r.role]) {
      const held = r.hub ? await cachedSize(r, path, deps.cache) : undefined;
      if (held !== undefined) {
        bytes += held;
        continue;
      }
      const stat = await r.source.stat(path, { signal }).catch((error: unknown) => {
        throw new StudioError('DownloadFailed', `Could not ask for ${path} of ${r.repo}: ${errorMessage(error)}`);
      });
      if (!stat) throw new StudioError('DownloadFailed', `${r.repo} has no ${path}.`, 'Choose a transformers.js export of the model (onnx/ folder, fp32 files).');
      bytes += stat.size ?? 0;
      if (r.hub) cached = false;
    }
    return { role: r.role, repo: r.repo, bytes, cached };
  }));
}

/** Removes the hub source's feature models from the model cache; the bytes freed. */
export async function deleteFeatureModels(spec: FeatureModelSource, cache: ModelCache | null): Promise<number> {
  if (spec.kind !== 'hub' || !cache) return 0;
  const resolved = resolve(spec, { cache, downloads: {} });
  const held = await listCachedModels(cache);
  let freed = 0;
  for (const r of resolved) {
    const id = { endpoint: r.hub!.endpoint, repo: r.repo, revision: r.hub!.revision };
    freed += held.filter((m) => m.endpoint === id.endpoint && m.repo === id.repo && m.revision === id.revision).reduce((s, m) => s + m.bytes, 0);
    await deleteCachedModel(cache, id);
  }
  return freed;
}

export interface FeatureFileOptions {
  signal?: AbortSignal;
  /** Hub files not cached yet may download (else: `InvalidRequest` before anything loads). */
  download: boolean;
  onEvent?: (role: FeatureRole, path: string, event: FileEvent) => void;
  /** The models that will be used (default both): only theirs must be cached. */
  roles?: readonly FeatureRole[];
}

/** The files the feature models load from; with `download` off, refuses at once when the hub's are not all cached. */
export async function featureFiles(spec: FeatureModelSource, deps: FeatureSourceDeps, options: FeatureFileOptions): Promise<{ files: FeatureModelFiles; prefetch: () => Promise<void> }> {
  const resolved = resolve(spec, deps);
  if (!options.download) {
    for (const r of resolved.filter((r) => (options.roles ?? ROLES).includes(r.role))) {
      for (const path of FEATURE_FILES[r.role]) {
        if (r.hub && (await cachedSize(r, path, deps.cache)) === undefined) {
          throw new StudioError('InvalidRequest', `The ${r.role === 'clip' ? 'CLIP' : 'DINOv2'} feature model (${r.repo}) is not downloaded yet.`, 'Evaluate a concept to download the feature models first.');
        }
      }
    }
  }
  const blob = async (r: Resolved, path: string): Promise<Blob | null> => {
    try {
      return await r.source.file(path, { signal: options.signal, onEvent: (e) => options.onEvent?.(r.role, path, e) });
    } catch (error) {
      if (error instanceof ModelSourceError && error.reason === 'not-found') return null;
      if (options.signal?.aborted) throw error;
      throw new StudioError('DownloadFailed', `The ${r.role === 'clip' ? 'CLIP' : 'DINOv2'} feature model's ${path}: ${errorMessage(error)}`);
    }
  };
  const files = (r: Resolved): FeatureFiles => ({
    name: r.repo,
    read: async (path) => {
      const b = await blob(r, path);
      return b && new Uint8Array(await b.arrayBuffer());
    },
  });
  /** Every file the models will read, downloaded into the cache now (progress, and errors that name the file). */
  const prefetch = async () => {
    for (const r of resolved.filter((r) => (options.roles ?? ROLES).includes(r.role))) {
      for (const path of FEATURE_FILES[r.role]) {
        if (!(await blob(r, path))) throw new StudioError('DownloadFailed', `${r.repo} has no ${path}.`, 'Choose a transformers.js export of the model (onnx/ folder, fp32 files).');
      }
    }
  };
  return { files: { clip: files(resolved[0]), dino: files(resolved[1]) }, prefetch };
}

/** The feature models of `roles`: their files downloaded first (so a failure names its file, and progress shows), then the models over them. */
export async function openFeatureModels(source: FeatureModelSource, deps: FeatureSourceDeps, download: boolean, roles: readonly FeatureRole[], ctx: JobContext): Promise<FeatureModels> {
  const { files, prefetch } = await featureFiles(source, deps, {
    signal: ctx.signal,
    download,
    roles,
    onEvent: (role, path, e) => {
      if (e.status === 'progress') ctx.progress({ label: `Downloading ${role === 'clip' ? 'CLIP' : 'DINOv2'} ${path}`, fraction: e.total ? e.loaded / e.total : null });
    },
  });
  await prefetch();
  if (ctx.signal.aborted) throw cancelled();
  return new FeatureModels(files, source.kind === 'hub' ? source.wasmPaths : undefined);
}
