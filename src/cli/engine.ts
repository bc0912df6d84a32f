/**
 * The studio's Engine in Node, as the tests build it: Dawn's WebGPU first (the tfjs backend
 * reads navigator.gpu when it loads, so the engine is imported only after), checkpoints in
 * files, the built-in model read from public/models/shapes-sd, hub downloads kept in a folder.
 * `--model` is `builtin`, a diffusers folder on disk, or a hub id `owner/name[@revision]`.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { StudioError } from '../common/errors';
import type { Engine } from '../engine/engine';
import type { ModelInfo, ModelSpec } from '../engine/protocol';
import { installNodeWebGpu } from '../gpu/node-webgpu';
import { DEFAULT_HUB_URL } from '../model/sources/hub';
import { nodeBuiltinSource, nodeFolderSource } from '../model/sources/node-folder';
import { MemoryCheckpointStore, type CheckpointStore } from '../train/checkpoint-store';
import { defaultCacheDir, FolderCache } from './folder-cache';
import type { Output } from './progress';
import { UsageError } from './usage';

export { DEFAULT_HUB_URL };

const HUB_ID = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([^@\s]+))?$/;

/** An Engine on Dawn (not yet started: `init()` requests the adapter). */
export async function createEngine(checkpoints: CheckpointStore = new MemoryCheckpointStore()): Promise<Engine> {
  const gpu = navigatorGpu() ?? installNodeWebGpu();
  const { Engine } = await import('../engine/engine');
  const cache = new FolderCache(defaultCacheDir());
  return new Engine(gpu, () => {}, async () => cache, checkpoints, async () => nodeBuiltinSource(), {}, (root) => nodeFolderSource(root));
}

/** The WebGPU already installed in this process (tests start Dawn themselves), if any. */
function navigatorGpu(): GPU | undefined {
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

/** What `--model` names: `builtin`, a folder that exists, else a hub repo id. */
export async function modelSpec(model: string, endpoint: string = DEFAULT_HUB_URL): Promise<ModelSpec> {
  if (model === 'builtin') return { kind: 'builtin' };
  const found = await stat(model).catch(() => null);
  if (found?.isDirectory()) return folderSpec(resolve(model));
  if (found) throw new UsageError(`--model ${model} is a file; give the diffusers folder that holds model_index.json.`);
  const m = HUB_ID.exec(model);
  if (!m || model.startsWith('.') || model.startsWith('/')) {
    throw new StudioError('ModelLoadFailed', `There is no model folder ${model}.`, 'Give --model builtin, a diffusers folder, or a hub id owner/name[@revision].');
  }
  return { kind: 'hub', repo: m[1], ...(m[2] && { revision: m[2] }), endpoint };
}

/**
 * A folder as a picked folder crosses to the engine: its files (file-backed Blobs, nothing read
 * yet) under paths that start with the folder's name, so the model is named and fingerprinted as in the page.
 */
async function folderSpec(dir: string): Promise<ModelSpec> {
  const paths = nodeFolderSource(dir).list!();
  const files = await Promise.all(paths.map(async (path) => new File([await openAsBlob(join(dir, ...path.split('/')))], path.split('/').pop()!)));
  return { kind: 'local', files, paths: paths.map((path) => `${basename(dir)}/${path}`) };
}

/** Starts the GPU and loads `--model`, its progress on `out`. */
export async function startWithModel(engine: Engine, model: string, endpoint: string | undefined, out: Output): Promise<ModelInfo> {
  const spec = await modelSpec(model, endpoint);
  await engine.init();
  const controller = new AbortController();
  try {
    return await engine.loadModel({ model: spec }, { signal: controller.signal, progress: (p) => out.loading(p) });
  } catch (error) {
    if (spec.kind === 'hub' && error instanceof StudioError && error.name === 'ModelLoadFailed') {
      const where = `${spec.repo}${spec.revision ? `@${spec.revision}` : ''} on ${endpoint ?? DEFAULT_HUB_URL}`;
      throw new StudioError('ModelLoadFailed', `${error.message} (looked for ${where}: there is no folder named ${model} here)`, error.hint);
    }
    throw error;
  } finally {
    out.stop();
  }
}
