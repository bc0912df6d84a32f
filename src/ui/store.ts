/**
 * The studio's UI state (zustand), in slices. Actions are plain module functions; the engine
 * is reached only through its client, and nothing here imports tfjs.
 */
import { create } from 'zustand';
import { startEngineWorker, type EngineClient } from '../engine/client';
import type { SerializedError } from '../engine/errors';
import type { GpuCapabilities } from '../engine/gpu';
import type {
  CachedModel,
  EngineEvent,
  EngineMemory,
  ModelInfo,
  ModelSpec,
  Progress,
  RgbaImage,
  TextToImageOptions,
  TextToImageResult,
  ConceptExport,
  TrainerOptions,
  TrainResult,
} from '../engine/protocol';
import { photosToTensorData } from './photos';

export const SECTIONS = ['library', 'new-concept', 'generate', 'gallery', 'models'] as const;
export type Section = (typeof SECTIONS)[number];

export type EngineStatus =
  | { state: 'starting' }
  | { state: 'ready'; capabilities: GpuCapabilities }
  | { state: 'unavailable'; error: SerializedError }
  | { state: 'failed'; error: SerializedError }
  | { state: 'lost'; event: EngineEvent };

export type ModelLoad =
  | { state: 'idle' }
  | { state: 'loading'; label: string; progress: Progress | null }
  | { state: 'failed'; label: string; error: SerializedError };

export type GenerationStatus =
  | { state: 'idle' }
  | { state: 'running'; progress: Progress | null; preview: RgbaImage | null }
  | { state: 'done'; result: TextToImageResult; options: TextToImageOptions }
  | { state: 'failed'; error: SerializedError };

export type TrainingStatus =
  | { state: 'idle' }
  | { state: 'running'; runId: string; progress: Progress | null }
  | { state: 'paused' | 'done'; runId: string; result: TrainResult }
  | { state: 'failed'; runId: string | null; error: SerializedError };

/** The concept being set up: photos stay in the page until training starts. */
export interface ConceptDraft {
  photos: File[];
  options: TrainerOptions;
}

interface StudioState {
  section: Section;
  engine: EngineStatus;
  memory: EngineMemory | null;
  /** The model the engine holds. */
  model: ModelInfo | null;
  modelLoad: ModelLoad;
  cachedModels: CachedModel[];
  generation: GenerationStatus;
  draft: ConceptDraft;
  training: TrainingStatus;
}

export const useStudio = create<StudioState>(() => ({
  section: 'library',
  engine: { state: 'starting' },
  memory: null,
  model: null,
  modelLoad: { state: 'idle' },
  cachedModels: [],
  generation: { state: 'idle' },
  draft: { photos: [], options: { method: 'both', token: '<my-concept>', classWord: '', steps: 500, resolution: 512 } },
  training: { state: 'idle' },
}));

function serialize(e: unknown): SerializedError {
  return (e as { toJSON?: () => SerializedError }).toJSON?.() ?? { name: 'InternalError', message: e instanceof Error ? e.message : String(e) };
}

let client: EngineClient | null = null;

export function showSection(section: Section): void {
  useStudio.setState({ section });
}

/** Starts (or restarts, in a fresh worker) the engine and records what the GPU offers. */
export async function startEngine(): Promise<void> {
  client?.terminate();
  const engine = startEngineWorker();
  client = engine;
  useStudio.setState({ engine: { state: 'starting' }, memory: null, model: null, modelLoad: { state: 'idle' }, generation: { state: 'idle' } });
  engine.onEvent((event) => {
    if (event.type === 'device-lost' && client === engine) {
      useStudio.setState({ engine: { state: 'lost', event }, memory: null, model: null, modelLoad: { state: 'idle' }, generation: { state: 'idle' } });
    }
  });
  try {
    const capabilities = await engine.request('init', {});
    if (client !== engine) return;
    useStudio.setState({ engine: { state: 'ready', capabilities } });
    await Promise.all([refreshMemory(), refreshCachedModels()]);
  } catch (e) {
    if (client !== engine) return;
    const error = serialize(e);
    const unavailable = error.name === 'WebGpuUnavailable' || error.name === 'AdapterUnavailable';
    useStudio.setState({ engine: unavailable ? { state: 'unavailable', error } : { state: 'failed', error } });
  }
}

/** Frees the GPU for other tabs and apps; the engine reports the loss like any other. */
export async function releaseGpu(): Promise<void> {
  await client?.request('releaseDevice', {});
}

export async function refreshMemory(): Promise<void> {
  if (!client || useStudio.getState().engine.state !== 'ready') return;
  try {
    useStudio.setState({ memory: await client.request('memory', {}) });
  } catch {
    // The device went away meanwhile; the lost event tells the user.
  }
}

/** Loads a model into the engine (it replaces the current one once its files are in hand). */
export async function loadModel(model: ModelSpec, label: string): Promise<void> {
  if (!client) return;
  const engine = client;
  useStudio.setState({ modelLoad: { state: 'loading', label, progress: null } });
  try {
    const info = await engine.request('loadModel', { model }, { onProgress: (progress) => useStudio.setState({ modelLoad: { state: 'loading', label, progress } }) });
    useStudio.setState({ model: info, modelLoad: { state: 'idle' } });
  } catch (e) {
    useStudio.setState({ modelLoad: { state: 'failed', label, error: serialize(e) } });
  }
  if (client === engine) useStudio.setState({ model: await engine.request('modelInfo', {}).catch(() => null) });
  await Promise.all([refreshMemory(), refreshCachedModels()]);
}

export async function refreshCachedModels(): Promise<void> {
  if (!client) return;
  try {
    useStudio.setState({ cachedModels: await client.request('cachedModels', {}) });
  } catch {
    useStudio.setState({ cachedModels: [] });
  }
}

export async function deleteCachedModel(repo: string, revision: string): Promise<void> {
  await client?.request('deleteCachedModel', { repo, revision });
  await refreshCachedModels();
}

let generation: AbortController | null = null;

export async function generate(options: TextToImageOptions): Promise<void> {
  if (!client) return;
  generation?.abort();
  const controller = new AbortController();
  generation = controller;
  useStudio.setState({ generation: { state: 'running', progress: null, preview: null } });
  try {
    const result = await client.request('generate', options, {
      signal: controller.signal,
      onProgress: (progress) => {
        const current = useStudio.getState().generation;
        const preview = progress.preview ?? (current.state === 'running' ? current.preview : null);
        useStudio.setState({ generation: { state: 'running', progress, preview } });
      },
    });
    useStudio.setState({ generation: { state: 'done', result, options } });
  } catch (e) {
    const error = serialize(e);
    useStudio.setState({ generation: error.name === 'Cancelled' ? { state: 'idle' } : { state: 'failed', error } });
  } finally {
    if (generation === controller) generation = null;
    await refreshMemory();
  }
}

export function cancelGeneration(): void {
  generation?.abort();
}

export function updateDraft(change: Partial<ConceptDraft> | ((draft: ConceptDraft) => Partial<ConceptDraft>)): void {
  useStudio.setState((s) => ({ draft: { ...s.draft, ...(typeof change === 'function' ? change(s.draft) : change) } }));
}

let training: { controller: AbortController; images: Float32Array } | null = null;

/** Trains the draft concept (or, with `resume`, goes on from the run's last checkpoint). */
export async function train(resume = false): Promise<void> {
  if (!client) return;
  const { draft, training: status } = useStudio.getState();
  const runId = resume && status.state === 'paused' ? status.runId : `run-${Date.now()}`;
  const controller = new AbortController();
  try {
    const images = resume && training ? training.images : await photosToTensorData(draft.photos, draft.options.resolution);
    training = { controller, images };
    useStudio.setState({ training: { state: 'running', runId, progress: null } });
    const result = await client.request(
      'train',
      { runId, options: draft.options, images: images.slice(), resume },
      { signal: controller.signal, onProgress: (progress) => useStudio.setState({ training: { state: 'running', runId, progress } }) },
    );
    useStudio.setState({ training: { state: result.outcome, runId, result } });
  } catch (e) {
    const error = serialize(e);
    useStudio.setState({ training: error.name === 'Cancelled' ? { state: 'idle' } : { state: 'failed', runId, error } });
  } finally {
    await refreshMemory();
  }
}

export async function pauseTraining(): Promise<void> {
  const status = useStudio.getState().training;
  if (status.state === 'running') await client?.request('pauseTraining', { runId: status.runId });
}

export function cancelTraining(): void {
  training?.controller.abort();
}

/** Saves a training run's concept as a file (embedding or LoRA) on this device. */
export async function downloadRun(runId: string, what: ConceptExport): Promise<void> {
  if (!client) return;
  try {
    const { fileName, bytes } = await client.request('exportRun', { runId, what });
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    useStudio.setState({ training: { state: 'failed', runId, error: serialize(e) } });
  }
}
