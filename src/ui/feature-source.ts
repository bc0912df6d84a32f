/**
 * Where the page asks the engine to get the feature models from (the hub, or a mirror with its
 * URL scheme: tests use the local stand-in), with the studio's own onnxruntime-web files; and
 * whether they were found in the browser last time, kept in localStorage, so the page asks the
 * engine about them (a call that would reach the hub for models not yet downloaded) only when
 * the person asks for an evaluation or a size, or when they are already here.
 */
import { DEFAULT_CLIP_REPO, DEFAULT_DINO_REPO, DEFAULT_HUB_ENDPOINT } from '../features/types';
import type { FeatureModelSource, FeatureModelStatus } from '../engine/protocol';
import { ortWasmPaths } from './ort-files';

export interface FeatureSourceForm {
  endpoint: string;
  clip: string;
  dino: string;
}

export const DEFAULT_FEATURE_SOURCE: FeatureSourceForm = { endpoint: DEFAULT_HUB_ENDPOINT, clip: DEFAULT_CLIP_REPO, dino: DEFAULT_DINO_REPO };

export function featureSource(form: FeatureSourceForm): FeatureModelSource {
  return { kind: 'hub', endpoint: form.endpoint.trim().replace(/\/+$/, ''), clip: form.clip.trim(), dino: form.dino.trim(), wasmPaths: ortWasmPaths() };
}

const KEY = 'diffusion-studio:feature-models-cached';
const SOURCE_KEY = 'diffusion-studio:feature-source';

function sourceKey(form: FeatureSourceForm): string {
  return [form.endpoint.trim().replace(/\/+$/, ''), form.clip.trim(), form.dino.trim()].join(' ');
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

/** Whether the engine last found both models of `form` in the browser. */
export function rememberedCached(form: FeatureSourceForm, storage: Store | undefined = globalThis.localStorage): boolean {
  try {
    const keys: unknown = JSON.parse(storage?.getItem(KEY) ?? '[]');
    return Array.isArray(keys) && keys.includes(sourceKey(form));
  } catch {
    return false;
  }
}

/** Records what the engine said about `form`'s models (both cached, or not). */
export function rememberStatus(form: FeatureSourceForm, statuses: readonly FeatureModelStatus[], storage: Store | undefined = globalThis.localStorage): void {
  const cached = statuses.length > 0 && statuses.every((s) => s.cached);
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(KEY) ?? '[]');
    const keys = (Array.isArray(parsed) ? parsed : []).filter((k) => k !== sourceKey(form));
    storage?.setItem(KEY, JSON.stringify(cached ? [...keys, sourceKey(form)] : keys));
  } catch {
    // storage full or blocked: the page asks again next visit
  }
}

/** The source chosen last time (a mirror is kept), else the hub's defaults. */
export function loadFeatureSource(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): FeatureSourceForm {
  try {
    const raw: unknown = JSON.parse(storage?.getItem(SOURCE_KEY) ?? 'null');
    const r = raw as Partial<FeatureSourceForm> | null;
    if (r && typeof r.endpoint === 'string' && typeof r.clip === 'string' && typeof r.dino === 'string') return { endpoint: r.endpoint, clip: r.clip, dino: r.dino };
  } catch {
    // unreadable: the defaults
  }
  return DEFAULT_FEATURE_SOURCE;
}

export function saveFeatureSource(form: FeatureSourceForm, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(SOURCE_KEY, JSON.stringify(form));
  } catch {
    // kept for this visit only
  }
}
