/**
 * The personalization training loop (textual inversion, cross-attention LoRA, or both; LoRA on
 * the text encoder's self-attention too with `textEncoderLora`) on a
 * loaded model, as diffusers' `textual_inversion.py` / `train_dreambooth_lora.py` run it:
 *   0. once: VAE-encode every training image, keep the posterior's mean and std (batch.ts);
 * then each step:
 *   1–3. a batch of latents, timesteps, noise and template prompts (batch.ts);
 *   4. loss and gradients for the trainable tensors only (`lossAndGrads`);
 *   5. one read back of the loss and the gradients' squared norm: a non-finite one stops the run
 *      (`TrainingDiverged`) before the step is applied; the gradients clipped to `maxGradNorm`;
 *   6. AdamW with the warmed-up learning rate (one optimizer per rate: TI, UNet LoRA, text-encoder LoRA).
 * DreamBooth ('dreambooth'): before the first step the frozen model draws the class images
 * (class-images.ts; kept in the checkpoints), and each step's batch is `batchSize` photos with
 * the instance prompt, then `batchSize` class images with the class prompt, the loss
 * MSE(instance) + priorLossWeight · MSE(class) (loss.ts).
 * Every random draw comes from one seeded generator whose state is in the checkpoint, so a
 * resumed run takes the very steps the uninterrupted one would have.
 */
import * as tf from '../gpu/tf';
import { limitPooledFreeBytes, pooledFreeBytesLimit } from '../gpu/memory';
import { StudioError } from '../common/errors';
import { SeededRng } from '../common/random';
import type { StableDiffusionModel } from '../model/load';
import type { RgbaImage } from '../model/pipeline';
import { concatBatches, disposeBatch, sampleBatch, type BatchSource } from './batch';
import { drawClassImages, frozenModelSampler, INSTANCE_TEMPLATES, storeClassLatents, type ClassImageSampler } from './class-images';
import { CHECKPOINT_VERSION, restoreCheckpoint, type Checkpoint, type StoredTensor } from './checkpoint';
import { resolveTrainerConfig, trainsLora, trainsVectors, type LearningRateOptions, type TrainerConfig, type TrainerOptions } from './config';
import { clipFactor, clipGradients, lossAndSquaredNorm } from './gradient-clipping';
import type { Lora } from './lora';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from './loss';
import { samplePrompt, sampleConcept, type SampleOptions } from './previews';
import { templatesFor } from './templates';
import { onCadence, type LearningRates, type RunHooks, type RunOutcome, type StepResult, type TrainingProgress } from './run-hooks';
import type { TextualInversion } from './textual-inversion';
import type { LayerTokenMap } from '../model/layer-tokens';
import { buildTrainerParts, disposeTrainerParts, optimizerSlices, startPerfusion, trainableKeys, trainableVariables, type TrainerDeps, type TrainerParts } from './trainer-parts';
import type { PerfusionEdit } from './perfusion-concept';
import { batchEncodings } from './perfusion-training';
import { INFERENCE_GATE, TRAINING_GATE } from './rank-one-edit';
import { checkResumeModel } from './resume-model';

export type { LearningRates, RunHooks, RunOutcome, StepResult, TrainingProgress } from './run-hooks';
export type { TrainerDeps } from './trainer-parts';

const EMA_DECAY = 0.9;

/** Perfusion: the embedding's gradient is scaled by this (lucidrains' `frac_gradient_concept_embed`, for the paper's lower embedding rate). */
export const PERFUSION_EMBEDDING_GRADIENT = 0.1;

/** `grads` with the first scaled by `f` (the old one disposed). */
function scaleFirst(grads: tf.Tensor[], f: number): tf.Tensor[] {
  const scaled = tf.mul(grads[0], f);
  grads[0].dispose();
  return [scaled, ...grads.slice(1)];
}

/** The run's error when step `step` (1-based) went non-finite. */
export function trainingDiverged(step: number): StudioError {
  return new StudioError('TrainingDiverged', `Training diverged at step ${step}: lower the learning rate.`);
}

/**
 * The most bytes of freed GPU buffers kept for reuse during a run. A checkpointed step at 512 px
 * frees buffers of hundreds of sizes that tfjs's pool would all keep (a third of the step's peak);
 * past this, the largest are given back to the device before a new buffer is made.
 */
export const TRAINING_POOLED_FREE_BYTES = 64 * 2 ** 20;

export class Trainer {
  private smoothed: number | null = null;
  private lastLoss = NaN;
  private lastLr: LearningRates = {};
  private readonly clock = { steps: 0, ms: 0 };

  private constructor(
    private readonly parts: TrainerParts,
    private readonly sampleClassImage: ClassImageSampler,
  ) {}

  get config(): TrainerConfig {
    return this.parts.config;
  }

  get ti(): TextualInversion | null {
    return this.parts.ti;
  }

  get lora(): Lora | null {
    return this.parts.lora;
  }

  /** The text encoder's LoRA (`textEncoderLora`). */
  get textEncoderLora(): Lora | null {
    return this.parts.textEncoderLora;
  }

  /** A fresh run. `images`: [N, 3, resolution, resolution] in [-1, 1], NCHW, row-major. */
  static create(model: StableDiffusionModel, options: TrainerOptions, images: Float32Array, deps: TrainerDeps = {}): Trainer {
    return Trainer.build(model, resolveTrainerConfig(options), images, deps, null);
  }

  /**
   * Goes on from a checkpoint (as read back from a store), with the same images; `rates` in place
   * of the checkpoint's peak rates (a diverged run goes on lower).
   */
  static resume(model: StableDiffusionModel, checkpoint: Checkpoint, images: Float32Array, deps: TrainerDeps = {}, rates: LearningRateOptions = {}): Trainer {
    const c = restoreCheckpoint(checkpoint);
    checkResumeModel('this checkpoint', { id: c.model, name: c.modelName }, { id: model.source, name: model.name });
    const config = Object.keys(rates).length > 0 ? resolveTrainerConfig({ ...c.config, ...rates }) : c.config;
    return Trainer.build(model, config, images, deps, c);
  }

  private static build(model: StableDiffusionModel, config: TrainerConfig, images: Float32Array, deps: TrainerDeps, from: Checkpoint | null): Trainer {
    const parts = buildTrainerParts(model, config, images, deps, from);
    const trainer = new Trainer(parts, deps.sampleClassImage ?? frozenModelSampler(model, parts.tokenizer));
    try {
      if (from) trainer.restore(from);
      return trainer;
    } catch (error) {
      trainer.dispose();
      throw error;
    }
  }

  /** Optimizer state and counters from a checkpoint whose tensors this trainer was built with. */
  private restore(c: Checkpoint): void {
    const keys = this.keys();
    const got = c.tensors.map((t) => t.key);
    if (keys.length !== got.length || keys.some((k, i) => k !== got[i])) {
      throw new Error(`checkpoint: trainable tensors [${got.join(', ')}] differ from this config's [${keys.join(', ')}].`);
    }
    const variables = this.variables();
    c.moments.forEach((m, i) => {
      if (m.shape.length !== 2 || m.shape[0] !== variables[i].size || m.shape[1] !== 2) throw new Error(`checkpoint: moments of '${m.key}' are [${m.shape}], [${variables[i].size}, 2] needed.`);
    });
    const moments = c.moments.map((m) => tf.tensor(m.data, m.shape));
    for (const { optimizer, start, end } of optimizerSlices(this.parts)) optimizer.restore(c.step, moments.slice(start, end));
    this.smoothed = c.smoothedLoss;
  }

  /** Optimizer steps taken so far. */
  get stepsDone(): number {
    return optimizerSlices(this.parts)[0].optimizer.step;
  }

  get done(): boolean {
    return this.stepsDone >= this.config.steps;
  }

  /** How many images were encoded (once each). */
  get imageCount(): number {
    return this.parts.latents.length;
  }

  /** DreamBooth: how many class images are drawn and encoded so far. */
  get classImageCount(): number {
    return this.parts.classLatents.length;
  }

  /** DreamBooth: true once every class image is drawn (always true for the other methods). */
  get classImagesReady(): boolean {
    return this.config.method !== 'dreambooth' || this.classImageCount >= this.config.classImages;
  }

  /** DreamBooth: draws the class images not drawn yet (`class-images.ts`); other methods have none to draw. */
  drawClassImages(hooks: Pick<RunHooks, 'signal' | 'shouldPause' | 'onClassImages'> = {}): Promise<RunOutcome> {
    if (this.config.method !== 'dreambooth') return Promise.resolve('done');
    const { classLatents: latents, encode, lora, textEncoderLora } = this.parts;
    const adapters = [lora, textEncoderLora].filter((l): l is Lora => l !== null);
    return drawClassImages({ config: this.config, latents, encode, adapters, sample: this.sampleClassImage }, hooks);
  }

  /** Token ids of the concept (TI), one per vector. */
  get tokenIds(): readonly number[] {
    return this.ti?.tokenIds ?? [];
  }

  /** The rates step `s` (0-based) uses. */
  learningRates(s = this.stepsDone): LearningRates {
    const { warmupSteps, method, textEncoderLora } = this.config;
    const f = warmupSteps > 0 ? Math.min(1, (s + 1) / warmupSteps) : 1;
    return {
      ...(trainsVectors(method) && { ti: this.config.tiLearningRate * f }),
      ...(trainsLora(method) && { lora: this.config.loraLearningRate * f }),
      ...(textEncoderLora && { textEncoder: this.config.textEncoderLearningRate * f }),
    };
  }

  /** The placeholder as prompts spell it: the TI token, or `token classWord` for LoRA alone. */
  get placeholder(): string {
    return this.ti ? this.config.token : `${this.config.token} ${this.config.classWord}`;
  }

  /**
   * One optimizer step. A non-finite loss or gradient throws `TrainingDiverged` naming the step,
   * which is not applied: the trainer stays as it was before it (its generator rewound too).
   */
  async step(): Promise<StepResult> {
    const started = performance.now();
    const lr = this.learningRates();
    const rngBefore = this.parts.rng.state;
    if (!this.classImagesReady) throw new Error(`DreamBooth: ${this.classImageCount} of ${this.config.classImages} class images drawn; drawClassImages() (or run()) first.`);
    const batch = this.trainingBatch();
    let loss: tf.Scalar | null = null;
    let grads: tf.Tensor[] = [];
    let undoPerfusion = () => {};
    try {
      undoPerfusion = await this.observePerfusion(batch);
      ({ loss, grads } = lossAndGrads(this.parts.model, this.parts.scheduler, batch, this.variables(), {
        ...this.textOptions(),
        ...(this.parts.perfusion && { crossAttention: this.parts.perfusion.hooks(TRAINING_GATE) }),
        checkpointing: this.config.gradientCheckpointing,
        ...(this.config.method === 'dreambooth' && { priorLossWeight: this.config.priorLossWeight }),
      }));
      if (this.parts.perfusion) grads = scaleFirst(grads, PERFUSION_EMBEDDING_GRADIENT);
      const read = lossAndSquaredNorm(loss, grads);
      const [value, squaredNorm] = await read.data();
      read.dispose();
      if (!Number.isFinite(value) || !Number.isFinite(squaredNorm)) {
        this.parts.rng.state = rngBefore;
        undoPerfusion();
        throw trainingDiverged(this.stepsDone + 1);
      }
      const clipped = clipGradients(grads, clipFactor(Math.sqrt(squaredNorm), this.config.maxGradNorm));
      if (clipped[0] !== grads[0]) tf.dispose(grads);
      grads = clipped;
      for (const { optimizer, rate, start, end } of optimizerSlices(this.parts)) optimizer.apply(grads.slice(start, end), lr[rate]);
      this.lastLoss = value;
    } finally {
      disposeBatch(batch);
      tf.dispose([...(loss ? [loss] : []), ...grads]);
    }
    this.smoothed = this.smoothed === null ? this.lastLoss : EMA_DECAY * this.smoothed + (1 - EMA_DECAY) * this.lastLoss;
    this.lastLr = lr;
    this.clock.steps += 1;
    this.clock.ms += performance.now() - started;
    return { step: this.stepsDone, loss: this.lastLoss, lr };
  }

  progress(): TrainingProgress {
    return {
      step: this.stepsDone,
      steps: this.config.steps,
      loss: this.lastLoss,
      smoothedLoss: this.smoothed ?? NaN,
      lr: this.lastLr,
      stepsPerSecond: this.clock.ms > 0 ? (1000 * this.clock.steps) / this.clock.ms : 0,
    };
  }

  /**
   * Steps until `config.steps`, an abort, or a pause. After each step: progress, then the
   * checkpoint and the preview when they are due; a checkpoint also on pause and at the end.
   * A checkpoint due on the way is handed over once the next step has proven it (finite loss
   * and gradients from it), so when a step diverges (`TrainingDiverged`), the run's last
   * checkpoint is one that a lower learning rate can go on from.
   */
  async run(hooks: RunHooks = {}): Promise<RunOutcome> {
    const drawn = await this.drawClassImages(hooks);
    if (drawn === 'paused') await hooks.checkpoints?.save(await this.checkpoint());
    if (drawn !== 'done') return drawn;
    const pooled = pooledFreeBytesLimit();
    limitPooledFreeBytes(Math.min(pooled, TRAINING_POOLED_FREE_BYTES));
    try {
      return await this.steps(hooks);
    } finally {
      limitPooledFreeBytes(pooled);
      this.parts.model.vae.weights.restore();
    }
  }

  /**
   * The loop of `run`, once the class images are drawn. Its steps hold the UNet and the text
   * encoder only: the VAE leaves the GPU before the first step (the photos' latents are cached;
   * after the pause check, so a pause asked at the start still lands after one step, as before)
   * and after each preview, which brings its decoder back for the decode. `run` restores it.
   */
  private async steps(hooks: RunHooks): Promise<RunOutcome> {
    const { signal, checkpoints, previews } = hooks;
    const save = async () => checkpoints?.save(await this.checkpoint());
    let proving: Checkpoint | null = null;
    let vaeOff = false;
    while (!this.done) {
      if (signal?.aborted) return 'aborted';
      if (hooks.shouldPause?.()) {
        await save();
        return 'paused';
      }
      if (!vaeOff) {
        await this.parts.model.vae.weights.offload(() => true);
        vaeOff = true;
      }
      const { step } = await this.step();
      if (proving) await checkpoints?.save(proving);
      proving = null;
      hooks.onProgress?.(this.progress());
      if (checkpoints && !this.done && onCadence(step, checkpoints.every)) proving = await this.checkpoint();
      if (previews && (this.done || onCadence(step, previews.every))) {
        previews.show({ step, ...(await this.sample(previews.options, signal)) });
        await this.parts.model.vae.weights.offload(() => true);
      }
    }
    await save();
    return 'done';
  }

  /**
   * The loss on a fixed batch (no update; the trainer's generator is not touched): image
   * i mod N at `timesteps[i]`, latent sample, noise and templates from `seed`. For validation.
   * DreamBooth: the photos' loss alone (no class half).
   */
  async evaluate(timesteps: readonly number[], seed = 0): Promise<number> {
    const batch = sampleBatch(this.batchSource(), new SeededRng(seed), timesteps.length, timesteps);
    const crossAttention = this.parts.perfusion?.hooks(TRAINING_GATE);
    const parts = diffusionLoss(this.parts.model, this.parts.scheduler, batch, { ...this.textOptions(), ...(crossAttention && { crossAttention }) });
    try {
      return (await parts.loss.data())[0];
    } finally {
      disposeBatch(batch);
      tf.dispose(Object.values(parts));
    }
  }

  /** The prompt previews use unless told otherwise. */
  get samplePrompt(): string {
    return samplePrompt(this.config.kind, this.placeholder, this.config.templates);
  }

  /** An image from the concept as learned so far (the trainer's generator is not touched). */
  async sample(o: SampleOptions = {}, signal?: AbortSignal): Promise<{ prompt: string; image: RgbaImage }> {
    const { model, tokenizer } = this.parts;
    const { kind, templates, resolution } = this.config;
    const crossAttention = this.parts.perfusion?.hooks(INFERENCE_GATE);
    return sampleConcept({ model, tokenizer, ...this.textOptions(), ...(crossAttention && { crossAttention }), kind, templates, placeholder: this.placeholder, resolution }, o, signal);
  }

  /** Everything needed to go on later, as plain data (no tensors); `TrainingDiverged` when a value is not finite. */
  async checkpoint(): Promise<Checkpoint> {
    const variables = this.variables();
    const optimizerMoments = optimizerSlices(this.parts).flatMap((o) => o.optimizer.moments);
    const keys = this.keys();
    const read = async (t: tf.Tensor, key: string): Promise<StoredTensor> => ({ key, shape: [...t.shape], data: Float32Array.from(await t.data()) });
    const tensors = await Promise.all(variables.map((v, i) => read(v, keys[i])));
    const moments = await Promise.all(optimizerMoments.map((m, i) => read(m, keys[i])));
    if (![...tensors, ...moments].every((t) => t.data.every(Number.isFinite))) throw trainingDiverged(this.stepsDone);
    const classLatents = await storeClassLatents(this.parts.classLatents);
    return {
      version: CHECKPOINT_VERSION,
      model: this.parts.model.source,
      modelName: this.parts.model.name,
      config: { ...this.config, targets: [...this.config.targets] },
      step: this.stepsDone,
      rngState: this.parts.rng.state,
      smoothedLoss: this.smoothed,
      tensors,
      moments,
      created: Date.now(),
      ...(classLatents && { classLatents }),
      ...(this.parts.perfusion && { perfusion: this.parts.perfusion.currentEncodings }),
    };
  }

  /** Frees the trainable tensors, optimizer state and cached latents; detaches the LoRAs. */
  dispose(): void {
    disposeTrainerParts(this.parts);
  }

  private batchSource(): BatchSource {
    const { model, tokenizer, latents, scheduler } = this.parts;
    const dreambooth = this.config.method === 'dreambooth';
    const templates = dreambooth && !this.config.templates ? INSTANCE_TEMPLATES : templatesFor(this.config.kind, this.config.templates);
    return { model, tokenizer, latents, templates, placeholder: this.placeholder, numTimesteps: scheduler.alphasCumprod.length };
  }

  /** A step's batch from the generator: the photos; for DreamBooth the class half after them. */
  private trainingBatch(): TrainingBatch {
    const { batchSize, method, classWord } = this.config;
    const instance = sampleBatch(this.batchSource(), this.parts.rng, batchSize);
    if (method !== 'dreambooth') return instance;
    const classSource = { ...this.batchSource(), latents: this.parts.classLatents, templates: INSTANCE_TEMPLATES, placeholder: classWord };
    return concatBatches(instance, sampleBatch(classSource, this.parts.rng, batchSize));
  }

  /**
   * Perfusion, before the forward: the step's i* and i_super folded into the running inputs (the
   * first step makes the edit from them). Returns what undoes it, for a step that diverges.
   */
  private async observePerfusion(batch: TrainingBatch): Promise<() => void> {
    const { parts } = this;
    if (this.config.method !== 'perfusion' || !this.ti) return () => {};
    const rows = (await batch.inputIds.array()) as number[][];
    const seen = await batchEncodings(parts.model, this.ti.embedTokens, rows, this.ti.tokenIds[0], parts.tokenizer.tokenize(this.config.classWord));
    if (!parts.perfusion) {
      startPerfusion(parts, seen);
      return () => {
        parts.perfusionOptimizer?.dispose();
        parts.perfusion?.dispose();
        parts.perfusion = null;
        parts.perfusionOptimizer = null;
      };
    }
    const before = parts.perfusion.currentEncodings;
    parts.perfusion.observe(seen);
    return () => parts.perfusion?.rewind(before);
  }

  /** Perfusion: the edit as learned so far, as plain data (null before the first step, or for other methods). */
  async perfusionEdit(): Promise<PerfusionEdit | null> {
    return this.parts.perfusion ? this.parts.perfusion.edit() : null;
  }

  /** How the text encoder reads the concept: its token rows (TI, P+) and, for P+, one prompt per layer. */
  private textOptions(): { embedTokens?: (ids: tf.Tensor2D) => tf.Tensor3D; layerTokens?: LayerTokenMap } {
    return { embedTokens: this.ti?.embedTokens, layerTokens: this.parts.layerTokens ?? undefined };
  }

  private variables(): tf.Variable[] {
    return trainableVariables(this.parts);
  }

  private keys(): string[] {
    return trainableKeys(this.parts);
  }
}
