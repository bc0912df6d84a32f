/**
 * The studio's UI state (zustand), in slices. Actions are plain module functions; the engine
 * is reached only through its client, and nothing here imports tfjs.
 */
import { create } from 'zustand';
import { TEXT_TO_IMAGE_DEFAULTS as D } from '../model/text-to-image-options';
import { rememberModelChoice, rememberedModelChoice } from './model-choice';
import { modelTrainingDefaults } from '../engine/training-policy';
import { startEngineWorker, type EngineClient } from '../engine/client';
import { StudioError, type SerializedError } from '../common/errors';
import type { GpuCapabilities } from '../gpu/device';
import type { ConceptSummary } from '../library/concept-record';
import type { UnreadableConcept } from '../library/concept-store';
import type { TrainingRun } from '../library/run-store';
import type { ConceptUse, GenerationSettings } from '../library/generation-settings';
import type { DraftCrop } from './draft-crops';
import type { LossCurve } from '../library/loss-curve';
import { announceImagesGenerated, type GeneratedImage } from './generated-images';
import { DEFAULT_HUB_URL } from '../model/sources/model-id';
import type {
  CachedModel,
  CachedModelId,
  EngineEvent,
  EngineMemory,
  ModelInfo,
  ModelSpec,
  Progress,
  RgbaImage,
  GenerateRequest,
  TextToImageOptions,
  TextToImageResult,
  TrainerOptions,
  TrainedSoFar,
  TrainingSample,
} from '../engine/protocol';

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

/** The last generation that finished (the queue holds those still to come). */
export type GenerationStatus =
  | { state: 'idle' }
  | { state: 'done'; result: TextToImageResult; options: TextToImageOptions; /** Each image with its own settings. */ images: GeneratedImage[] }
  | { state: 'failed'; error: SerializedError };

/** A generation waiting for the engine (it runs them in order) or under way. */
export interface GenerationJob {
  id: number;
  prompt: string;
  seed: number;
  images: number;
  /** null until the engine starts it. */
  progress: Progress | null;
  preview: RgbaImage | null;
}

export type TrainingStatus =
  | { state: 'idle' }
  | { state: 'running'; run: TrainingRun; progress: Progress | null }
  | { state: 'paused'; run: TrainingRun; result: TrainedSoFar }
  | { state: 'done'; run: TrainingRun; result: TrainedSoFar; /** Where it was saved in the library. */ conceptId: string }
  | { state: 'failed'; run: TrainingRun | null; error: SerializedError }
  /** A run found on start-up that stopped before its end (tab closed, GPU lost): resumable. */
  | { state: 'interrupted'; run: TrainingRun };

/** The concept being set up: photos stay in the page until training starts. */
export interface ConceptDraft {
  photos: File[];
  options: TrainerOptions;
  /** The squares chosen for photos (draft-crops.ts); a photo without one trains on its centre. */
  crops?: DraftCrop[];
}

export interface Notice {
  tone: 'ok' | 'error';
  message: string;
  hint?: string;
  /** One line each (refused files), shown as a list under the message. */
  items?: string[];
}

export interface LibraryState {
  loaded: boolean;
  /** Newest first. */
  concepts: ConceptSummary[];
  /** Stored records that could not be read (shown, so they can be deleted). */
  unreadable: UnreadableConcept[];
  /** What the last import, save or delete did. */
  notice: Notice | null;
  /** Files that hold layers the studio does not apply: imported only if the person agrees. */
  partial: PartialImport[];
}

export interface PartialImport {
  file: File;
  /** What would be left out. */
  message: string;
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
  /** Generations queued or running, oldest first. */
  queue: GenerationJob[];
  draft: ConceptDraft;
  training: TrainingStatus;
  /** Preview images of the current training run, oldest first. */
  samples: TrainingSample[];
  library: LibraryState;
  /** A token to add to the Generate section's prompt ("Use in a prompt"). */
  promptInsert: { token: string; at: number } | null;
  /** Settings to put in the Generate section's composer ("Use these settings", a dropped PNG). */
  composerFill: { settings: GenerationSettings; at: number } | null;
  /** The folder last visit's model came from, when it cannot be reopened without the person. */
  lastFolder: string | null;
  /** The current training run's loss at each step so far (`training-losses.ts`; the loss chart draws it). */
  losses: LossCurve | null;
  /** The Models section's hub form, kept across section switches. */
  hubForm: HubForm;
}

export interface HubForm {
  repo: string;
  revision: string;
  endpoint: string;
}

/** Training steps a new concept starts from, where the model recommends none. */
const DRAFT_STEPS = 500;

export const useStudio = create<StudioState>(() => ({
  section: 'library',
  engine: { state: 'starting' },
  memory: null,
  model: null,
  modelLoad: { state: 'idle' },
  cachedModels: [],
  generation: { state: 'idle' },
  queue: [],
  draft: { photos: [], options: { method: 'both', token: '<my-concept>', classWord: '', steps: DRAFT_STEPS, resolution: 512 } },
  training: { state: 'idle' },
  samples: [],
  library: { loaded: false, concepts: [], unreadable: [], notice: null, partial: [] },
  promptInsert: null,
  composerFill: null,
  lastFolder: null,
  losses: null,
  hubForm: { repo: '', revision: 'main', endpoint: DEFAULT_HUB_URL },
}));

/** Any error as the page keeps it: a StudioError with its name and hint; anything else is a bug. */
export function serialize(e: unknown): SerializedError {
  return StudioError.from(e).toJSON();
}

let client: EngineClient | null = null;

/** The engine's client, once started. */
export function engineClient(): EngineClient | null {
  return client;
}

export function showSection(section: Section): void {
  useStudio.setState({ section });
}

/** Starts (or restarts, in a fresh worker) the engine and records what the GPU offers. */
export async function startEngine(): Promise<void> {
  client?.terminate();
  const engine = startEngineWorker();
  client = engine;
  useStudio.setState({ engine: { state: 'starting' }, memory: null, model: null, modelLoad: { state: 'idle' }, generation: { state: 'idle' }, queue: [] });
  engine.onEvent((event) => {
    if (event.type === 'device-lost' && client === engine) {
      useStudio.setState({ engine: { state: 'lost', event }, memory: null, model: null, modelLoad: { state: 'idle' }, generation: { state: 'idle' }, queue: [] });
    }
  });
  try {
    const capabilities = await engine.request('init', {});
    if (client !== engine) return;
    useStudio.setState({ engine: { state: 'ready', capabilities } });
    await Promise.all([refreshMemory(), refreshCachedModels()]);
    // A reconnect reloads the model of this visit (a picked folder too); a first start, last visit's.
    if (sessionModel) await loadModel(sessionModel.spec, sessionModel.label);
    else if (sessionModel === undefined) await openRememberedModel();
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

/** The model the person chose last time (the built-in one on a first visit), once the GPU is ready. */
async function openRememberedModel(): Promise<void> {
  const choice = rememberedModelChoice();
  if (choice.kind === 'local') useStudio.setState({ lastFolder: choice.label });
  else if (choice.kind === 'hub') await loadModel(choice, choice.repo);
  else await loadModel({ kind: 'builtin' }, BUILTIN_LABEL);
}

export const BUILTIN_LABEL = 'the built-in demo model';

/** Loads a model into the engine (it replaces the current one once its files are in hand). */
export async function loadModel(model: ModelSpec, label: string): Promise<void> {
  if (!client) return;
  const engine = client;
  const controller = new AbortController();
  modelLoading = controller;
  useStudio.setState({ modelLoad: { state: 'loading', label, progress: null } });
  try {
    const info = await engine.request('loadModel', { model }, {
      signal: controller.signal,
      onProgress: (progress) => useStudio.setState({ modelLoad: { state: 'loading', label, progress } }),
    });
    useStudio.setState({ model: info, modelLoad: { state: 'idle' }, lastFolder: null });
    sessionModel = { spec: model, label };
    rememberModelChoice(model, label);
    adoptTrainingDefaults(info);
  } catch (e) {
    const error = serialize(e);
    useStudio.setState({ modelLoad: error.name === 'Cancelled' ? { state: 'idle' } : { state: 'failed', label, error } });
  } finally {
    if (modelLoading === controller) modelLoading = null;
  }
  if (client === engine) useStudio.setState({ model: await engine.request('modelInfo', {}).catch(() => null) });
  await Promise.all([refreshMemory(), refreshCachedModels()]);
}

let modelLoading: AbortController | null = null;

/** The model loaded in this visit, for a reconnect; null once the person unloaded it; undefined before any. */
let sessionModel: { spec: ModelSpec; label: string } | null | undefined;

/** Stops the model load under way (its download too); the current model stays. */
export function cancelModelLoad(): void {
  modelLoading?.abort();
}

export async function refreshCachedModels(): Promise<void> {
  if (!client) return;
  try {
    useStudio.setState({ cachedModels: await client.request('cachedModels', {}) });
  } catch {
    useStudio.setState({ cachedModels: [] });
  }
}

export async function deleteCachedModel(model: CachedModelId): Promise<void> {
  await client?.request('deleteCachedModel', { endpoint: model.endpoint, repo: model.repo, revision: model.revision });
  await refreshCachedModels();
}

const generations = new Map<number, AbortController>();
let lastJobId = 0;

function updateJob(id: number, change: Partial<GenerationJob>): void {
  useStudio.setState((s) => ({ queue: s.queue.map((j) => (j.id === id ? { ...j, ...change } : j)) }));
}

/**
 * Queues a generation (the engine runs them in order); `uses` says which library concepts it
 * applies, at which strengths (for the images' settings). Resolves when it is done.
 */
export async function generate(options: GenerateRequest, uses: ConceptUse[] = []): Promise<void> {
  if (!client) return;
  const engine = client;
  const model = useStudio.getState().model;
  const controller = new AbortController();
  const id = ++lastJobId;
  generations.set(id, controller);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const job: GenerationJob = { id, prompt: options.prompt, seed, images: (options.prompts?.length ?? 1) * (options.batch ?? 1), progress: null, preview: null };
  useStudio.setState((s) => ({ queue: [...s.queue, job] }));
  let startedAt = Date.now();
  try {
    const result = await engine.request('generate', { ...options, seed }, {
      signal: controller.signal,
      onProgress: (progress) => {
        const current = useStudio.getState().queue.find((j) => j.id === id);
        if (current?.progress === null) startedAt = Date.now();
        updateJob(id, { progress, preview: progress.preview ?? current?.preview ?? null });
      },
    });
    const images = model ? generatedImages(result, options, uses, model, startedAt) : [];
    useStudio.setState({ generation: { state: 'done', result, options, images } });
    // Listeners keep their own failures (the gallery says a full disk in its notice).
    if (images.length > 0) await announceImagesGenerated(images).catch((e) => console.error(e));
  } catch (e) {
    const error = serialize(e);
    if (error.name !== 'Cancelled') useStudio.setState({ generation: { state: 'failed', error } });
  } finally {
    generations.delete(id);
    useStudio.setState((s) => ({ queue: s.queue.filter((j) => j.id !== id) }));
    await refreshMemory();
  }
}

/** Each image of a result with its own settings (image i of each prompt used seed + i). */
function generatedImages(result: TextToImageResult, options: GenerateRequest, uses: ConceptUse[], model: ModelInfo, startedAt: number) {
  const durationMs = Date.now() - startedAt;
  const batch = options.batch ?? 1;
  return result.images.map((image, i) => {
    const settings: GenerationSettings = {
      prompt: options.prompts?.[Math.floor(i / batch)] ?? options.prompt,
      negativePrompt: options.negativePrompt ?? '',
      steps: options.steps ?? D.steps,
      guidanceScale: options.guidanceScale ?? D.guidanceScale,
      sampler: options.sampler ?? D.sampler,
      seed: result.seed + (i % batch),
      width: image.width,
      height: image.height,
      modelId: model.id,
      modelName: model.name,
      concepts: uses,
    };
    return { image, settings, startedAt, durationMs };
  });
}

/** Puts settings into the Generate section's composer and shows it. */
export function fillComposer(settings: GenerationSettings): void {
  useStudio.setState({ composerFill: { settings, at: Date.now() }, section: 'generate' });
}

/** Cancels one queued or running generation, or all of them. */
export function cancelGeneration(id?: number): void {
  for (const [jobId, controller] of generations) if (id === undefined || jobId === id) controller.abort();
  // One still waiting answers only when the engine reaches it: it leaves the queue now.
  useStudio.setState((s) => ({ queue: s.queue.filter((j) => j.progress !== null || (id !== undefined && j.id !== id)) }));
}

/** A new model's recommended training settings become the draft's, unless a run is under way. */
function adoptTrainingDefaults(info: ModelInfo): void {
  if (useStudio.getState().training.state !== 'idle') return;
  updateDraft((d) => {
    const { templates: _t, tiLearningRate: _ti, loraLearningRate: _lora, gradientCheckpointing: _g, ...options } = d.options;
    return { options: { ...options, steps: DRAFT_STEPS, ...modelTrainingDefaults(info, options.kind) } };
  });
}

export function updateDraft(change: Partial<ConceptDraft> | ((draft: ConceptDraft) => Partial<ConceptDraft>)): void {
  useStudio.setState((s) => ({ draft: { ...s.draft, ...(typeof change === 'function' ? change(s.draft) : change) } }));
}


export function updateHubForm(change: Partial<HubForm>): void {
  useStudio.setState((s) => ({ hubForm: { ...s.hubForm, ...change } }));
}

/** Why the model cannot be unloaded now (a generation, training or load under way), or null. */
export function unloadBlocked(state: Pick<StudioState, 'queue' | 'training' | 'modelLoad'>): string | null {
  if (state.training.state === 'running') return 'Pause or cancel the training run first.';
  if (state.queue.length > 0) return 'Wait for the generation or cancel it first.';
  if (state.modelLoad.state === 'loading') return 'A model is loading.';
  return null;
}

/** Frees the model's GPU memory; a reconnect then loads none. The engine refuses while it is in use (its error is returned). */
export async function unloadModel(): Promise<SerializedError | null> {
  if (!client || unloadBlocked(useStudio.getState())) return null;
  let error: SerializedError | null = null;
  try {
    await client.request('unloadModel', {});
    sessionModel = null;
    useStudio.setState({ model: null, modelLoad: { state: 'idle' } });
  } catch (e) {
    error = serialize(e);
  }
  await refreshMemory();
  return error;
}
