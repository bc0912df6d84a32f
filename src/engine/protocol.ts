/**
 * The typed message protocol between the page and the engine worker.
 *
 * Page → engine: `{type: 'request', id, kind, payload}` where `kind` names a method of
 * `EngineApi`. Engine → page: exactly one `return` or `throw` per request (any number of
 * `progress` before it), plus unsolicited `event`s (device lost). The page never holds tensors:
 * everything crossing here is structured-clonable data.
 */
import type { SerializedError } from '../common/errors';
import type { GpuCapabilities } from '../gpu/device';
import type { RgbaImage, TextToImageOptions, TextToImageResult } from '../model/pipeline';
import type { CachedModel, CachedModelId } from '../model/sources/cache';
import type { ModelCard } from '../model/sources/builtin';
import type { SizeProfile } from '../model/size-cost';
import type { LearningRateOptions, TrainerOptions } from '../train/config';
import type { ImportedPersonalization } from '../train/formats/import';
import type { SampleOptions, TrainingPreview } from '../train/previews';
import type { TrainingProgress } from '../train/run-hooks';
import type { ConceptData, ConceptExport, ImportedConceptData } from './concept-files';
import type { ConceptWeights } from '../library/concept';
import type { EvaluationRecord, WorldEvaluation } from '../library/evaluation';
import type { ClassSuggestion, EvaluationScores, FeatureModelSource, FeatureModelStatus } from '../features/types';

export type { ClassSuggestion, EvaluationRecord, EvaluationScores, FeatureModelSource, FeatureModelStatus };
export type { WorldEvaluation };
export type { ModelCard, RgbaImage, TextToImageOptions, TextToImageResult, CachedModel, CachedModelId, TrainerOptions, TrainingProgress, ConceptData, ConceptExport, ConceptWeights, ImportedConceptData };

/** A generation, with the library concepts its prompts use. */
export interface GenerateRequest extends TextToImageOptions {
  concepts?: ConceptWeights[];
}

/** Training previews: an image every `every` steps, same prompt and seed each time. */
export interface TrainingPreviewOptions extends SampleOptions {
  every: number;
}

/**
 * A training run. Options left out take the studio's training policy (`training-policy.ts`):
 * activation checkpointing on, a checkpoint every tenth of the run (5 to 25 steps), about 8
 * previews and one at the end.
 */
export interface TrainRequest {
  /** Names the run; its checkpoints are stored under it. */
  runId: string;
  options: TrainerOptions;
  /** Training photos, [N, 3, resolution, resolution] NCHW in [-1, 1] (resized in the page). */
  images: Float32Array;
  /** Go on from the run's last checkpoint instead of starting over (a finished run answers at once). */
  resume?: boolean;
  /** Peak rates in place of the options' or the checkpoint's: a diverged run goes on lower. */
  rates?: LearningRateOptions;
  /** Steps between checkpoints; default the studio's. */
  checkpointEvery?: number;
  /** Preview images during training; default the studio's, none with null. */
  preview?: TrainingPreviewOptions | null;
}

/** Where a run stopped. */
export interface TrainedSoFar {
  step: number;
  loss: number;
}

/** A paused run, or a finished one with its concept (what `runConcept` would give). */
export type TrainResult = (TrainedSoFar & { outcome: 'paused' }) | (TrainedSoFar & { outcome: 'done'; concept: ConceptData });

/** Where a model comes from. Files are structured-clonable, so a picked folder crosses as is. */
export type ModelSpec =
  /** The model that ships with the studio (`model/sources/builtin.ts`). */
  | { kind: 'builtin' }
  | { kind: 'hub'; repo: string; revision?: string; /** Default https://huggingface.co. */ endpoint?: string }
  | { kind: 'local'; files: File[]; /** Paths inside the folder, when the files do not carry webkitRelativePath (dropped). */ paths?: string[] };

export interface ModelInfo {
  /** What the weights are (`model/sources/model-id.ts`): `builtin:shapes-sd`, `hf:owner/name@<commit>`, `local:folder#<fingerprint>`. */
  id: string;
  /** What people call it: `shapes-sd`, `owner/name`, `folder`. Sentences use it, beside the id where identity matters. */
  name: string;
  /** What the page calls it and starts its forms from. */
  card: ModelCard;
  /** GPU bytes of the weights. */
  bytes: number;
  /** Native image size in pixels (the UNet's sample_size × 8). */
  imageSize: number;
  /** What sizes cost on this model, for the page's warning before it starts (`checkImageSize`). */
  sizes: SizeProfile;
  /** UNet summary for the UI, e.g. "4 blocks, 32–64 channels, mid block". */
  summary: string;
}

/** Requests the engine answers: payload in, result out. */
export interface EngineApi {
  /** Acquires the GPU and builds the tensor backend. Idempotent while the device lives. */
  init: (payload: Record<string, never>) => GpuCapabilities;
  /** Destroys the GPU device, freeing its memory for other tabs; answered after the loss event. */
  releaseDevice: (payload: Record<string, never>) => null;
  /** GPU memory held by the engine. */
  memory: (payload: Record<string, never>) => EngineMemory;
  /** Loads a model (replacing the current one), reporting download and upload progress. */
  loadModel: (payload: { model: ModelSpec }) => ModelInfo;
  /** The loaded model, if any. */
  modelInfo: (payload: Record<string, never>) => ModelInfo | null;
  /** Text to image with the loaded model; progress carries the step and a preview. */
  generate: (payload: GenerateRequest) => TextToImageResult;
  /** Stops a running or queued request (its promise rejects with a Cancelled error). */
  cancel: (payload: { requestId: number }) => null;
  /** Hub models kept in browser storage, with their sizes. */
  cachedModels: (payload: Record<string, never>) => CachedModel[];
  /** Trains a concept on the loaded model; progress carries the step, loss and rates. */
  train: (payload: TrainRequest) => TrainResult;
  /** A training run's concept as a file other tools read, from its last checkpoint. */
  exportRun: (payload: { runId: string; what: ConceptExport }) => ConceptFile;
  /** What a training run has learned so far (its last checkpoint), to keep in the library. */
  runConcept: (payload: { runId: string }) => ConceptData;
  /** Forgets a training run's checkpoints. */
  deleteRun: (payload: { runId: string }) => null;
  /** Reads an embedding or LoRA file for the loaded model; refused files throw and change nothing. */
  /** `allowPartial`: keep the supported layers of a file that also holds LoHa/LoKr/DoRA/… ones. */
  importConcept: (payload: { file: Blob; fileName: string; allowPartial?: boolean }) => ImportedConceptData;
  /** What import reads from a file, before it becomes a concept: format, tokens, layers, scales, what is left out. */
  inspectConcept: (payload: { file: Blob; fileName: string; allowPartial?: boolean }) => ImportedPersonalization;
  /** A library concept as a file other tools read. */
  exportConcept: (payload: { concept: ConceptData; what: ConceptExport }) => ConceptFile;
  /** Asks a running training to checkpoint and stop after its current step. */
  pauseTraining: (payload: { runId: string }) => null;
  /** Deletes a cached hub model (endpoint null: one kept before endpoints were part of the key). */
  deleteCachedModel: (payload: CachedModelId) => number;
  /** How much of a prompt the loaded model's text encoder reads, with the concepts' tokens added (nothing runs on the GPU). */
  countTokens: (payload: TokenCountRequest) => TokenCount;
  /** Frees the loaded model's GPU memory (none loaded: nothing to do); refused while a job runs or waits. */
  unloadModel: (payload: Record<string, never>) => null;
  /** The feature models' sizes and whether they are cached, asked before any download (HEAD requests / file sizes only). */
  featureModels: (payload: { source?: FeatureModelSource }) => FeatureModelStatus[];
  /** Removes the source's downloaded feature models (default: the hub's defaults) from the cache; answers the bytes freed. */
  deleteFeatureModels: (payload: { source?: FeatureModelSource }) => number;
  /** Generates the evaluation set and scores it (queued like generate/train; progress; cancel; GPU and ort sessions released after). */
  evaluateConcept: (payload: EvaluateRequest) => ConceptEvaluation;
  /**
   * Zero-shot class words for training photos, and whether they look like several subjects. Reads
   * the CLIP model only when cached (or a folder), else InvalidRequest, unless `download` (ask first).
   */
  suggestClassWords: (payload: { photos: RgbaImage[]; source?: FeatureModelSource; download?: boolean }) => ClassSuggestion;
}

/** An evaluation of a concept on the loaded model against its training photos. */
export interface EvaluateRequest {
  concept: ConceptWeights;
  /** The training photos (any size; the feature models resize them). */
  photos: RgbaImage[];
  source?: FeatureModelSource;
  /** Defaults: 2 seeds (1, 2), the model's native size (at most 512), few steps. */
  seeds?: number[];
  steps?: number;
  size?: number;
}

/** One generated image of the evaluation set. */
export interface EvaluationImage {
  prompt: string;
  seed: number;
  /** Made with the class word in place of the token. */
  baseline: boolean;
  image: RgbaImage;
  /** One of the shapes world's prompts (built-in model, sample concept): scored by its analyzer, not the feature models. */
  world?: true;
}

/** What the library keeps (`library/evaluation.ts`), and the images the page shows. */
export interface ConceptEvaluation extends EvaluationRecord {
  images: EvaluationImage[];
}

/** A prompt to count, with the library concepts it uses (their tokens are single tokens, N vectors each). */
export interface TokenCountRequest {
  prompt: string;
  concepts?: { token: string; nVectors: number }[];
}

/** The prompt's tokens against the text encoder's window (both count its start and end tokens). */
export interface TokenCount {
  count: number;
  window: number;
  /** What the encoder will not read ('' when it fits), as the tokenizer reads it back. */
  droppedText: string;
}

export type RequestKind = keyof EngineApi;
type Payloads = { [K in RequestKind]: Parameters<EngineApi[K]>[0] };
type Results = { [K in RequestKind]: ReturnType<EngineApi[K]> };
export type PayloadOf<K extends RequestKind> = Payloads[K];
export type ResultOf<K extends RequestKind> = Results[K];

/** What a running request gets: where its progress goes, and the signal that cancels it. */
export interface JobContext {
  progress: (p: Progress) => void;
  signal: AbortSignal;
}

/** The engine's side of the protocol: one handler per request kind, typed from `EngineApi`. */
export type EngineHandlers = { [K in RequestKind]: (payload: Payloads[K], ctx: JobContext) => Results[K] | Promise<Results[K]> };

export interface ConceptFile {
  fileName: string;
  bytes: Uint8Array;
}

/** Training progress as the engine reports it. */
export interface TrainingReport extends TrainingProgress {
  /** Seconds left: the steps at the recent pace and the previews to come (`training-eta.ts`); null before the first step. */
  etaSeconds: number | null;
  /** GPU bytes in live buffers after the step. */
  gpuBytes: number;
  /** The step of the run's last stored checkpoint (null before the first). */
  checkpointStep: number | null;
}

/** A training preview image. */
export type TrainingSample = TrainingPreview;

export interface EngineMemory {
  /** Bytes in live GPU buffers. */
  bytesInUse: number;
  /** Bytes allocated from the device, pooled free buffers included. */
  bytesAllocated: number;
  tensors: number;
}

export interface Progress {
  /** What is being done, for the user ("Downloading unet/…", "Step 12/25"). */
  label: string;
  /** 0..1, or null when unknown. */
  fraction: number | null;
  /** A small preview image (generation). */
  preview?: RgbaImage;
  /** Training: step, loss, smoothed loss, learning rates, steps/s, ETA, GPU bytes. */
  training?: TrainingReport;
  /** Training: a preview image of the concept as learned so far. */
  sample?: TrainingSample;
}

export type EngineEvent = {
  type: 'device-lost';
  /** 'destroyed': we released it on purpose; 'unknown': driver reset, out of memory, ... */
  reason: 'destroyed' | 'unknown';
  message: string;
};

/** A request of kind K (any kind by default). */
export type RequestMessage<K extends RequestKind = RequestKind> = {
  [P in K]: { type: 'request'; id: number; kind: P; payload: PayloadOf<P> };
}[K];

export type ToEngine = RequestMessage;

export type FromEngine =
  | { type: 'return'; id: number; result: ResultOf<RequestKind> }
  | { type: 'throw'; id: number; error: SerializedError }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'event'; event: EngineEvent };
