/**
 * The engine: owns the GPU device, the tensor backend, the loaded model and every job. Jobs that
 * use the model run one at a time, in order; each has a progress callback and an abort signal.
 * Plain class, no worker code, so it runs in Node tests on Dawn exactly as in the worker.
 */
import * as tf from '../gpu/tf';
import { errorMessage, StudioError } from '../common/errors';
import { requestGpu, type Gpu, type GpuCapabilities } from '../gpu/device';
import { activateConcepts, ConceptTokenizers } from './active-concepts';
import type { EngineEvent, EngineMemory, GenerateRequest, JobContext, ModelInfo, ModelSpec, PayloadOf, ResultOf, TrainRequest } from './protocol';
import type { JobHandlers } from './serve';
import { installWebGpuBackend } from '../gpu/tf-backend';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { CancelledError, TEXT_TO_IMAGE_DEFAULTS, textToImage } from '../model/pipeline';
import { sizeProfile } from '../model/size-cost';
import { refuseOversize } from './size-refusal';
import { deleteCachedModel, listCachedModels, openBrowserCache, type ModelCache } from '../model/sources/cache';
import { HubSource } from '../model/sources/hub';
import type { Timeouts } from '../model/sources/http';
import { LocalFolderSource } from '../model/sources/local';
import type { ModelSource } from '../model/sources/types';
import { BUILTIN_MODEL_CARD, BUILTIN_MODEL_FOLDER, BUILTIN_MODEL_ID, defaultModelCard } from '../model/sources/builtin';
import { StaticFolderSource } from '../model/sources/static-folder';
import { ClipTokenizer } from '../model/tokenizer';
import { IndexedDbCheckpointStore, MemoryCheckpointStore, type CheckpointStore } from '../train/checkpoint-store';
import { conceptFromImport, exportConcept } from './concept-files';
import { conceptOfRun } from './run-concept';
import { CovarianceInverse } from './perfusion-statistics';
import { importPersonalization } from '../train/formats/import';
import { runTrainingJob } from './training-job';
import { evaluationSettings, runEvaluation } from './evaluation-job';
import { cancelled } from './cancelled';
import { DEFAULT_FEATURE_SOURCE, deleteFeatureModels, featureModelStatus, openFeatureModels, type FeatureSourceDeps } from './feature-sources';
import { classPrompt, classSuggestion, CLASS_WORDS } from '../features/class-words';

interface LoadedModel {
  sd: StableDiffusionModel;
  tokenizer: ClipTokenizer;
  /** Tokenizers with library concepts' tokens added. */
  conceptTokenizers: ConceptTokenizers;
  /** Perfusion's C⁻¹, computed when first needed. */
  covarianceInverse: CovarianceInverse;
  info: ModelInfo;
}

export class Engine implements JobHandlers {
  private gpu: Gpu | null = null;
  private starting: Promise<GpuCapabilities> | null = null;
  private lost: Promise<EngineEvent> | null = null;
  private model: LoadedModel | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Jobs queued or running. */
  private jobs = 0;
  private readonly pauses = new Set<string>();

  constructor(
    private readonly navigatorGpu: GPU | undefined,
    private readonly emit: (event: EngineEvent) => void,
    /** Model file cache; default: the browser's Cache Storage when there is one. */
    private readonly cache: () => Promise<ModelCache | null> = openBrowserCache,
    /** Training checkpoints; default: IndexedDB where there is one. */
    private readonly checkpoints: CheckpointStore = globalThis.indexedDB ? new IndexedDbCheckpointStore() : new MemoryCheckpointStore(),
    /** The built-in model's files; default: served beside the app (`BUILTIN_MODEL_FOLDER` under the site root). */
    private readonly builtin: (signal: AbortSignal) => Promise<ModelSource> = (signal) => StaticFolderSource.open(BUILTIN_MODEL_ID, new URL(`/${BUILTIN_MODEL_FOLDER}`, globalThis.location.href).href, { signal }),
    /** Hub download deadlines and retries; default `download`'s (30 s, 2 retries). */
    private readonly downloads: Timeouts = {},
    /** Node (CLI, tests): feature models from a folder; the browser has none. */
    private readonly featureFolder?: (root: string) => ModelSource,
  ) {}

  init(): Promise<ResultOf<'init'>> {
    this.starting ??= this.start().catch((error) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  private async start(): Promise<GpuCapabilities> {
    const gpu = await requestGpu(this.navigatorGpu);
    this.lost = gpu.device.lost.then((info) => {
      const event: EngineEvent = {
        type: 'device-lost',
        reason: info.reason === 'destroyed' ? 'destroyed' : 'unknown',
        message: info.message || 'The GPU device was lost.',
      };
      this.gpu = null;
      this.starting = null;
      this.model = null; // its tensors died with the device
      this.emit(event);
      return event;
    });
    await installWebGpuBackend(gpu.device, gpu.adapter.info);
    this.gpu = gpu;
    return gpu.capabilities;
  }

  async releaseDevice(): Promise<ResultOf<'releaseDevice'>> {
    const gpu = this.requireGpu();
    this.model?.sd.dispose();
    this.model = null;
    gpu.device.destroy();
    await this.lost;
    return null;
  }

  memory(): ResultOf<'memory'> {
    this.requireGpu();
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
    const memory: EngineMemory = {
      bytesInUse: m.numBytesInGPU ?? 0,
      bytesAllocated: m.numBytesAllocatedInGPU ?? 0,
      tensors: m.numTensors,
    };
    return memory;
  }

  /** Runs jobs that use the GPU and the model one after another. */
  private enqueue<T>(job: () => Promise<T>, signal: AbortSignal): Promise<T> {
    this.jobs++;
    const run = this.queue.then(() => {
      if (signal.aborted) throw cancelled();
      return job();
    });
    this.queue = run.catch(() => undefined).finally(() => this.jobs--);
    return run.catch((error) => {
      throw error instanceof CancelledError || signal.aborted ? cancelled() : error;
    });
  }

  loadModel({ model: spec }: PayloadOf<'loadModel'>, ctx: JobContext): Promise<ModelInfo> {
    return this.enqueue(async () => {
      this.requireGpu();
      const source = await this.source(spec, ctx.signal);
      let sd: StableDiffusionModel;
      try {
        sd = await loadStableDiffusion(source, {
          signal: ctx.signal,
          // The current model stays usable until the new one's files are all in hand.
          beforeUpload: () => {
            this.model?.sd.dispose();
            this.model = null;
          },
          onEvent: (e) => {
            if (e.status === 'progress') {
              const total = e.overall.total;
              ctx.progress({ label: `Loading ${e.file}`, fraction: total ? e.overall.loaded / total : null });
            }
          },
        });
      } catch (error) {
        if (ctx.signal.aborted) throw cancelled();
        if (error instanceof StudioError) throw error; // DownloadFailed, with its own hint
        throw new StudioError('ModelLoadFailed', errorMessage(error));
      }
      const tokenizer = ClipTokenizer.fromFiles(sd.tokenizerFiles);
      const u = sd.unet.config;
      const sizes = sizeProfile(u, sd.vae.config);
      const imageSize = sizes.nativeSize;
      const info: ModelInfo = {
        id: sd.source,
        name: sd.name,
        card: spec.kind === 'builtin' ? BUILTIN_MODEL_CARD : defaultModelCard(sd.name, imageSize),
        bytes: sd.bytes,
        imageSize,
        sizes,
        summary: `${u.blockOutChannels.length} UNet blocks, ${u.blockOutChannels.join('/')} channels${u.midBlock ? '' : ', no mid block'}`,
      };
      this.model = { sd, tokenizer, conceptTokenizers: new ConceptTokenizers(sd), covarianceInverse: new CovarianceInverse(sd), info };
      return info;
    }, ctx.signal);
  }

  generate(request: GenerateRequest, ctx: JobContext): Promise<ResultOf<'generate'>> {
    return this.enqueue(async () => {
      const model = this.requireModel();
      const { concepts = [], ...options } = request;
      if (options.prompts ? options.prompts.some((p) => !p?.trim()) : !options.prompt?.trim()) throw new StudioError('InvalidRequest', 'The prompt is empty.', 'Describe the image you want.');
      const { width, height, batch } = { ...TEXT_TO_IMAGE_DEFAULTS, ...options };
      const images = (options.prompts?.length ?? 1) * batch;
      refuseOversize(model.info.sizes, { width, height, rows: 2 * images, images, purpose: 'generating' }, this.requireGpu().capabilities);
      const active = concepts.length > 0 ? activateConcepts(model.sd, model.conceptTokenizers, concepts) : null;
      try {
        const prompts = active
          ? { prompt: active.rewrite(options.prompt ?? ''), prompts: options.prompts?.map(active.rewrite), negativePrompt: active.rewrite(options.negativePrompt ?? '') }
          : {};
        return await textToImage(model.sd, active?.tokenizer ?? model.tokenizer, { ...options, ...prompts }, {
          signal: ctx.signal,
          previewEvery: 1,
          embedTokens: active?.embedTokens,
          layerTokens: active?.layerTokens,
          crossAttention: active?.crossAttention,
          onStep: ({ step, total, preview }) => ctx.progress({ label: `Step ${step}/${total}`, fraction: step / total, preview }),
        });
      } catch (error) {
        if (error instanceof RangeError) throw new StudioError('InvalidRequest', error.message, 'Change the setting and generate again.');
        throw error;
      } finally {
        active?.dispose();
      }
    }, ctx.signal);
  }

  /**
   * Trains a concept (`training-job.ts`): checkpoints on the studio's cadence, at the end and on
   * pause, so a closed tab or a lost device resumes from the last checkpoint (`resume: true`).
   */
  train(request: TrainRequest, ctx: JobContext): Promise<ResultOf<'train'>> {
    return this.enqueue(async () => {
      const model = this.requireModel();
      const { runId } = request;
      this.pauses.delete(runId);
      return runTrainingJob(request, ctx, {
        model: model.sd,
        checkpoints: this.checkpoints,
        pauseRequested: () => this.pauses.delete(runId),
        gpuBytes: () => this.memory().bytesInUse,
        modelLost: () => this.model !== model,
        refuseSize: (resolution, batchSize) => refuseOversize(model.info.sizes, { width: resolution, height: resolution, rows: batchSize, images: 1, purpose: 'training' }, this.requireGpu().capabilities),
        covarianceInverse: () => model.covarianceInverse.get(ctx.signal),
      });
    }, ctx.signal);
  }

  async exportRun({ runId, what }: PayloadOf<'exportRun'>): Promise<ResultOf<'exportRun'>> {
    return this.exportConcept({ concept: await this.runConcept({ runId }), what });
  }

  async runConcept({ runId }: PayloadOf<'runConcept'>): Promise<ResultOf<'runConcept'>> {
    const checkpoint = await this.checkpoints.get(runId);
    if (!checkpoint) throw new StudioError('InvalidRequest', `There is no checkpoint of training run '${runId}'.`);
    // a P+ run's layers and a Perfusion run's keys are the loaded model's (the run was trained on it: runs are per model)
    const model = this.model;
    return conceptOfRun(checkpoint, runId, model?.sd, () => model!.covarianceInverse.get());
  }

  async deleteRun({ runId }: PayloadOf<'deleteRun'>): Promise<ResultOf<'deleteRun'>> {
    await this.checkpoints.delete(runId);
    return null;
  }

  async importConcept(payload: PayloadOf<'importConcept'>): Promise<ResultOf<'importConcept'>> {
    return conceptFromImport(await this.inspectConcept(payload), payload.fileName);
  }

  /** Refusals are ImportRefused, or ImportPartial for a file with layers of kinds the studio does not apply. */
  async inspectConcept({ file, fileName, allowPartial }: PayloadOf<'inspectConcept'>): Promise<ResultOf<'inspectConcept'>> {
    const { sd, tokenizer, info } = this.requireModel();
    const { text, unet } = sd;
    const target = { textDim: text.config.hiddenSize, unet: unet.config, text: text.config, modelName: info.name, isVocabularyWord: (t: string) => tokenizer.isVocabularyWord(t) };
    return importPersonalization(file, fileName, target, { allowPartial });
  }

  exportConcept({ concept, what }: PayloadOf<'exportConcept'>): ResultOf<'exportConcept'> {
    try {
      const model = this.model ? { unet: this.model.sd.unet.config, modelName: this.model.info.name } : undefined;
      return exportConcept(concept, what, model);
    } catch (error) {
      throw new StudioError('InvalidRequest', errorMessage(error));
    }
  }

  pauseTraining({ runId }: PayloadOf<'pauseTraining'>): ResultOf<'pauseTraining'> {
    this.pauses.add(runId);
    return null;
  }

  /** Disposes the model now; a generation, training or load under way or waiting keeps it. */
  unloadModel(): ResultOf<'unloadModel'> {
    this.requireGpu();
    if (this.jobs > 0) throw new StudioError('InvalidRequest', 'The model is in use: a generation, training run or model load is under way.', 'Cancel or pause it, then unload the model.');
    this.model?.sd.dispose();
    this.model = null;
    return null;
  }

  modelInfo(): ResultOf<'modelInfo'> {
    return this.model?.info ?? null;
  }

  async cachedModels(): Promise<ResultOf<'cachedModels'>> {
    const cache = await this.cache();
    return cache ? listCachedModels(cache) : [];
  }

  async deleteCachedModel({ endpoint, repo, revision }: PayloadOf<'deleteCachedModel'>): Promise<ResultOf<'deleteCachedModel'>> {
    const cache = await this.cache();
    return cache ? deleteCachedModel(cache, { endpoint, repo, revision }) : 0;
  }

  countTokens({ prompt, concepts = [] }: PayloadOf<'countTokens'>): ResultOf<'countTokens'> {
    const model = this.requireModel();
    const tokenizer = concepts.length > 0 ? model.conceptTokenizers.get(concepts).tokenizer : model.tokenizer;
    const encoded = tokenizer.encode(prompt);
    return { count: encoded.tokenCount, window: tokenizer.maxLength, droppedText: encoded.droppedText };
  }

  async featureModels({ source = DEFAULT_FEATURE_SOURCE }: PayloadOf<'featureModels'>, ctx: JobContext): Promise<ResultOf<'featureModels'>> {
    return featureModelStatus(source, await this.featureDeps(), ctx.signal);
  }

  async deleteFeatureModels({ source = DEFAULT_FEATURE_SOURCE }: PayloadOf<'deleteFeatureModels'>): Promise<ResultOf<'deleteFeatureModels'>> {
    return deleteFeatureModels(source, await this.cache());
  }

  /** Queued like generate and train: downloads the feature models if need be, generates the set, scores it, releases the sessions. */
  evaluateConcept(request: PayloadOf<'evaluateConcept'>, ctx: JobContext): Promise<ResultOf<'evaluateConcept'>> {
    return this.enqueue(async () => {
      const model = this.requireModel();
      const { size } = evaluationSettings(request, model.info.imageSize);
      refuseOversize(model.info.sizes, { width: size, height: size, rows: 2, images: 1, purpose: 'generating' }, this.requireGpu().capabilities);
      const features = await openFeatureModels(request.source ?? DEFAULT_FEATURE_SOURCE, await this.featureDeps(), true, ['clip', 'dino'], ctx);
      try {
        return await runEvaluation(request, ctx, model, features);
      } finally {
        await features.release();
      }
    }, ctx.signal);
  }

  /** CLIP zero-shot over the built-in classes; reads only cached (or folder) models unless `download`. Not queued: no GPU. */
  async suggestClassWords({ photos, source = DEFAULT_FEATURE_SOURCE, download = false }: PayloadOf<'suggestClassWords'>, ctx: JobContext): Promise<ResultOf<'suggestClassWords'>> {
    if (photos.length === 0) throw new StudioError('InvalidRequest', 'Add photos first.');
    const features = await openFeatureModels(source, await this.featureDeps(), download, ['clip'], ctx);
    try {
      const images = await features.clipImages(photos);
      const words = await features.clipTexts(CLASS_WORDS.map((w) => classPrompt(w)));
      return classSuggestion(images, words);
    } finally {
      await features.release();
    }
  }

  private async featureDeps(): Promise<FeatureSourceDeps> {
    return { cache: await this.cache(), downloads: this.downloads, folder: this.featureFolder };
  }

  private async source(spec: ModelSpec, signal: AbortSignal): Promise<ModelSource> {
    try {
      if (spec.kind === 'builtin') return await this.builtin(signal);
      if (spec.kind === 'hub') {
        return new HubSource({ ...this.downloads, repo: spec.repo.trim(), revision: spec.revision?.trim() || 'main', baseUrl: spec.endpoint?.trim() || undefined, cache: await this.cache() });
      }
      if (spec.paths) return await LocalFolderSource.fromEntries(spec.paths.map((path, i) => [path, spec.files[i]] as [string, Blob]));
      return await LocalFolderSource.fromFiles(spec.files);
    } catch (error) {
      throw new StudioError('ModelLoadFailed', errorMessage(error));
    }
  }

  private requireModel(): LoadedModel {
    this.requireGpu();
    if (!this.model) throw new StudioError('NoModel', 'No model is loaded.');
    return this.model;
  }

  private requireGpu(): Gpu {
    if (!this.gpu) throw new StudioError('EngineNotReady', 'The GPU is not connected.', 'Reconnect the GPU from the GPU panel.');
    return this.gpu;
  }
}
