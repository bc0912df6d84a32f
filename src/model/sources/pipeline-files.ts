/**
 * Gets the files a Stable Diffusion 1.x pipeline needs from any `ModelSource`, with progress
 * events in a fixed lifecycle (as transformers.js): per file `initiate` → [`download`] →
 * `progress`… → `done`, then one `ready`. `progress` carries the file's bytes and the whole
 * model's; both only grow and end at their totals.
 *
 * Weights prefer the `.fp16.safetensors` variant when the model has one. Every file is located
 * first (`stat`: sizes known up front where the source can tell), so a missing required file fails
 * fast, naming it; then model_index.json is fetched first and checked, so a model of another kind
 * (SDXL, ...) fails before gigabytes of weights are downloaded.
 */
import { ModelSourceError, type FileEvent, type ModelSource } from './types';

export interface FileSpec {
  /** The canonical path: what consumers ask for; also the last candidate. */
  key: string;
  /** Paths to try in order (variants first). */
  candidates: readonly string[];
  required: boolean;
}

const weights = (folder: string, name: string, variant: string | null): FileSpec => ({
  key: `${folder}/${name}.safetensors`,
  candidates: variant ? [`${folder}/${name}.${variant}.safetensors`, `${folder}/${name}.safetensors`] : [`${folder}/${name}.safetensors`],
  required: true,
});
const plain = (key: string, required = true): FileSpec => ({ key, candidates: [key], required });

/** The files of a diffusers StableDiffusionPipeline folder, `variant` ('fp16') weights first. */
export function sdPipelineFiles(variant: string | null = 'fp16'): FileSpec[] {
  return [
    plain('model_index.json'),
    plain('scheduler/scheduler_config.json'),
    plain('text_encoder/config.json'),
    weights('text_encoder', 'model', variant),
    plain('tokenizer/vocab.json'),
    plain('tokenizer/merges.txt'),
    plain('tokenizer/tokenizer_config.json', false),
    plain('tokenizer/special_tokens_map.json', false),
    plain('tokenizer/tokenizer.json', false),
    plain('unet/config.json'),
    weights('unet', 'diffusion_pytorch_model', variant),
    plain('vae/config.json'),
    weights('vae', 'diffusion_pytorch_model', variant),
  ];
}

export type LoadEvent =
  | { status: 'initiate'; model: string; file: string; size?: number }
  | { status: 'download'; model: string; file: string; url: string }
  | {
      status: 'progress';
      model: string;
      file: string;
      loaded: number;
      total?: number;
      /** The whole model: bytes so far, and the total once every file's size is known. */
      overall: { loaded: number; total?: number };
    }
  | { status: 'done'; model: string; file: string; size: number; fromNetwork: boolean; cacheError?: string }
  | { status: 'ready'; model: string; files: number; bytes: number };

export interface LoadedFile {
  /** The path actually read (a variant, maybe). */
  path: string;
  blob: Blob;
}

export interface PipelineFiles {
  model: string;
  /** By canonical key (`unet/diffusion_pytorch_model.safetensors`); optional files may be absent. */
  files: Map<string, LoadedFile>;
}

export interface LoadOptions {
  onEvent?: (event: LoadEvent) => void;
  signal?: AbortSignal;
  /** Default: `sdPipelineFiles()`. model_index.json, when listed, is always fetched first. */
  files?: readonly FileSpec[];
}

export async function loadPipelineFiles(source: ModelSource, options: LoadOptions = {}): Promise<PipelineFiles> {
  const { signal } = options;
  const emit = options.onEvent ?? (() => {});
  const specs = options.files ?? sdPipelineFiles();
  const model = source.name;

  // 1. Locate every file (in parallel; variants in order); fail on a missing required one.
  const located = await Promise.all(specs.map((spec) => locate(source, spec, signal)));
  const plan = specs.flatMap((spec, i) => (located[i] ? [{ spec, path: located[i]!.path, size: located[i]!.size }] : []));
  const index = plan.findIndex((p) => p.path === 'model_index.json');
  if (index > 0) plan.unshift(...plan.splice(index, 1));

  // 2. Fetch them one by one with the lifecycle events.
  const files = new Map<string, LoadedFile>();
  const sizes = plan.map((p) => p.size);
  let doneBytes = 0;
  const overallTotal = () => (sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined);
  for (const [i, { spec, path }] of plan.entries()) {
    signal?.throwIfAborted();
    emit({ status: 'initiate', model, file: path, size: sizes[i] });
    let loaded = 0;
    let fromNetwork = false;
    let cacheError: string | undefined;
    const progress = (bytes: number, total?: number) => {
      loaded = bytes;
      if (total !== undefined) sizes[i] = total;
      emit({ status: 'progress', model, file: path, loaded, total, overall: { loaded: doneBytes + loaded, total: overallTotal() } });
    };
    const onEvent = (event: FileEvent) => {
      if (event.status === 'download') {
        fromNetwork = true;
        emit({ status: 'download', model, file: path, url: event.url });
      } else if (event.status === 'progress') {
        if (event.loaded > loaded) progress(event.loaded, event.total);
      } else {
        cacheError = event.message;
      }
    };
    const blob = await source.file(path, { signal, onEvent });
    sizes[i] = blob.size;
    if (loaded < blob.size || loaded === 0) progress(blob.size, blob.size);
    doneBytes += blob.size;
    emit({ status: 'done', model, file: path, size: blob.size, fromNetwork, cacheError });
    files.set(spec.key, { path, blob });
    if (path === 'model_index.json') await checkModelIndex(source, blob);
  }
  emit({ status: 'ready', model, files: files.size, bytes: doneBytes });
  return { model, files };
}

async function locate(source: ModelSource, spec: FileSpec, signal?: AbortSignal): Promise<{ path: string; size?: number } | undefined> {
  // A required file the source remembers as absent is asked for again before giving up.
  for (const fresh of spec.required ? [false, true] : [false]) {
    for (const path of spec.candidates) {
      const found = await source.stat(path, { signal, fresh });
      if (found) return { path, size: found.size };
    }
  }
  if (!spec.required) return undefined;
  let hint = '';
  if (spec.key.endsWith('.safetensors')) {
    const bin = spec.key.replace(/\.safetensors$/, '.bin').replace('text_encoder/model.bin', 'text_encoder/pytorch_model.bin');
    if (await source.stat(bin, { signal, fresh: true }).catch(() => null)) {
      hint = ` It only has ${bin}: PyTorch pickles cannot be read safely in the browser; convert it to safetensors.`;
    }
  }
  const tried = spec.candidates.length > 1 ? ` (tried ${spec.candidates.join(', ')})` : '';
  throw new ModelSourceError('not-found', `${source.name} is missing ${spec.key}${tried}, which a Stable Diffusion pipeline needs.${hint}`, {
    file: spec.key,
  });
}

/** Refuses models that are not SD 1.x-style pipelines before their weights are fetched. */
async function checkModelIndex(source: ModelSource, blob: Blob): Promise<void> {
  let index: Record<string, unknown>;
  try {
    index = JSON.parse(await blob.text());
  } catch (e) {
    throw new ModelSourceError('invalid', `model_index.json of ${source.name} is not valid JSON: ${(e as Error).message}`, { file: 'model_index.json' });
  }
  const missing = ['unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler'].filter((c) => !Array.isArray(index[c]) || (index[c] as unknown[])[0] === null);
  if (missing.length > 0 || 'text_encoder_2' in index) {
    const kind = typeof index._class_name === 'string' ? index._class_name : 'unknown pipeline';
    const why = missing.length > 0 ? `it has no ${missing.join(', ')}` : 'it has a second text encoder (SDXL-style)';
    throw new ModelSourceError('not-a-model', `${source.name} is a ${kind}, not a Stable Diffusion 1.x-style model: ${why}.`, { file: 'model_index.json' });
  }
}

/** A loaded text file parsed as JSON, naming the file when it is not. */
export async function loadedJson<T = unknown>(file: LoadedFile): Promise<T> {
  try {
    return JSON.parse(await file.blob.text()) as T;
  } catch (e) {
    throw new ModelSourceError('invalid', `${file.path} is not valid JSON: ${(e as Error).message}`, { file: file.path });
  }
}
