/**
 * The personalization training loop (textual inversion, cross-attention LoRA, or both) on a
 * loaded model, as diffusers' `textual_inversion.py` / `train_dreambooth_lora.py` run it:
 *   0. once: VAE-encode every training image, keep the posterior's mean and std;
 * then each step:
 *   1. pick `batchSize` images; latents z0 = (mean + std · ε) · scaling_factor;
 *   2. timesteps t ~ U{0, …, num_train_timesteps − 1}, noise ε' ~ N(0, I);
 *   3. a random template prompt with the concept's placeholder → token ids;
 *   4. loss and gradients for the trainable tensors only (`lossAndGrads`);
 *   5. AdamW with the warmed-up learning rate (one optimizer per method, each with its rate).
 * Every random draw comes from one seeded `TrainingRng` whose state is in the checkpoint, so a
 * resumed run takes the very steps the uninterrupted one would have.
 */
import * as tf from '../gpu/tf';
import { AdamW } from '../kernels/adamw';
import type { StableDiffusionModel } from '../model/load';
import { textToImage, type RgbaImage } from '../model/pipeline';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { vaeEncode, type Posterior } from '../model/vae';
import { CHECKPOINT_VERSION, restoreCheckpoint, type Checkpoint, type StoredTensor } from './checkpoint';
import { resolveTrainerConfig, type TrainerConfig, type TrainerOptions } from './config';
import { Lora, type LoraValue } from './lora';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from './loss';
import { fillTemplate, templatePrompt, templatesFor } from './templates';
import { TextualInversion } from './textual-inversion';

const TI_KEY = 'ti.vectors';
const EMA_DECAY = 0.9;

/**
 * mulberry32 (as `model/random.ts`'s `rng`) with its state in the open, so it can be saved and
 * restored; normals by Box–Muller as `randomNormal` draws them (one normal per pair of uniforms).
 */
export class TrainingRng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(Math.floor(this.next() * n), n - 1);
  }

  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = Math.max(this.next(), 1e-12);
      out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    }
    return out;
  }
}

/** The generator's first state: `seed` mixed, so its draws differ from LoRA's init (which uses `seed`). */
function trainingSeed(seed: number): number {
  return (seed ^ 0x9e3779b9) >>> 0;
}

export interface LearningRates {
  ti?: number;
  lora?: number;
}

export interface StepResult {
  /** Steps done, this one included. */
  step: number;
  loss: number;
  lr: LearningRates;
}

export interface TrainingProgress extends StepResult {
  steps: number;
  smoothedLoss: number;
  /** Over the steps this trainer ran since it was created or resumed. */
  stepsPerSecond: number;
}

export interface RunOptions {
  onProgress?: (progress: TrainingProgress) => void;
  signal?: AbortSignal;
  /** Checked before each step: true stops the loop (the trainer can `run` again later). */
  shouldPause?: () => boolean;
}

export type RunOutcome = 'done' | 'paused' | 'aborted';

/** How training previews are made: the same prompt and seed each time, so they show the progress. */
export interface SampleOptions {
  /** Default: the kind's first training template with the placeholder ("a photo of a <my-cat>"). */
  prompt?: string;
  seed?: number;
  /** Sampler steps (DDIM). */
  steps?: number;
  /** Image side in pixels; default the training resolution. */
  size?: number;
  guidanceScale?: number;
}

export interface TrainerDeps {
  /** The VAE encoder (default `vaeEncode` on the model's VAE); a seam for tests. */
  encode?: (image: tf.Tensor4D) => Posterior;
}

/** A cached posterior of one image: [1, 4, h, w] each. */
interface CachedLatent {
  mean: tf.Tensor4D;
  std: tf.Tensor4D;
}

export class Trainer {
  private smoothed: number | null = null;
  private lastLoss = NaN;
  private lastLr: LearningRates = {};
  private readonly clock = { steps: 0, ms: 0 };

  private constructor(
    private readonly model: StableDiffusionModel,
    readonly config: TrainerConfig,
    private readonly scheduler: DdpmScheduler,
    private readonly tokenizer: ClipTokenizer,
    private readonly latents: CachedLatent[],
    private readonly rng: TrainingRng,
    readonly ti: TextualInversion | null,
    readonly lora: Lora | null,
    private readonly tiOptimizer: AdamW | null,
    private readonly loraOptimizer: AdamW | null,
  ) {}

  /** A fresh run. `images`: [N, 3, resolution, resolution] in [-1, 1], NCHW, row-major. */
  static create(model: StableDiffusionModel, options: TrainerOptions, images: Float32Array, deps: TrainerDeps = {}): Trainer {
    return Trainer.build(model, resolveTrainerConfig(options), images, deps, null);
  }

  /** Goes on from a checkpoint (as read back from a store), with the same images. */
  static resume(model: StableDiffusionModel, checkpoint: Checkpoint, images: Float32Array, deps: TrainerDeps = {}): Trainer {
    const c = restoreCheckpoint(checkpoint);
    if (c.model !== model.source) throw new Error(`checkpoint: trained on '${c.model}', the loaded model is '${model.source}'.`);
    return Trainer.build(model, c.config, images, deps, c);
  }

  private static build(model: StableDiffusionModel, config: TrainerConfig, images: Float32Array, deps: TrainerDeps, from: Checkpoint | null): Trainer {
    const { method, resolution: R } = config;
    const perImage = 3 * R * R;
    if (images.length === 0 || images.length % perImage !== 0) {
      throw new Error(`training images: ${images.length} values is not a whole number of [3, ${R}, ${R}] images.`);
    }
    const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const stored = new Map((from?.tensors ?? []).map((t) => [t.key, t]));
    const owned: { dispose(): void }[] = [];
    try {
      // 0. encode every image once
      const encode = deps.encode ?? ((image: tf.Tensor4D) => vaeEncode(model.vae.weights, model.vae.config, image));
      const latents: CachedLatent[] = [];
      for (let i = 0; i < images.length / perImage; i++) {
        const cached = tf.tidy(() => {
          const image = tf.tensor4d(images.subarray(i * perImage, (i + 1) * perImage), [1, 3, R, R]);
          const { mean, logvar } = encode(image);
          return { mean: tf.keep(mean), std: tf.keep(tf.exp(tf.mul(logvar, 0.5)) as tf.Tensor4D) };
        });
        latents.push(cached);
        owned.push({ dispose: () => tf.dispose([cached.mean, cached.std]) });
      }

      let ti: TextualInversion | null = null;
      let lora: Lora | null = null;
      if (method !== 'lora') {
        const tokenIds = tokenizer.addConcept(config.token, config.numVectors);
        const values = stored.get(TI_KEY)?.data;
        const initIds = tokenizer.tokenize(config.classWord);
        ti = TextualInversion.create(model.text.weights, { numVectors: config.numVectors, tokenIds, initIds, values });
        owned.push(ti);
      }
      if (method !== 'ti') {
        const scale = config.alpha / config.rank;
        lora = from
          ? Lora.fromValues(model.unet.weights, new Map<string, LoraValue>([...stored].filter(([k]) => k !== TI_KEY)), scale)
          : Lora.create(model.unet.weights, model.unet.config, { rank: config.rank, alpha: config.alpha, targets: config.targets, seed: config.seed });
        owned.push(lora);
      }
      const adamw = (variables: tf.Variable[]) => {
        const o = new AdamW(variables, { weightDecay: config.weightDecay });
        owned.push(o);
        return o;
      };
      const tiOptimizer = ti ? adamw([ti.vectors]) : null;
      const loraOptimizer = lora ? adamw(lora.variables()) : null;

      const trainer = new Trainer(model, config, scheduler, tokenizer, latents, new TrainingRng(from?.rngState ?? trainingSeed(config.seed)), ti, lora, tiOptimizer, loraOptimizer);
      if (from) trainer.restore(from);
      return trainer;
    } catch (error) {
      owned.reverse().forEach((o) => o.dispose());
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
    const n = this.ti ? 1 : 0;
    this.tiOptimizer?.restore(c.step, moments.slice(0, n));
    this.loraOptimizer?.restore(c.step, moments.slice(n));
    this.smoothed = c.smoothedLoss;
  }

  /** Optimizer steps taken so far. */
  get stepsDone(): number {
    return (this.tiOptimizer ?? this.loraOptimizer)!.step;
  }

  get done(): boolean {
    return this.stepsDone >= this.config.steps;
  }

  /** How many images were encoded (once each). */
  get imageCount(): number {
    return this.latents.length;
  }

  /** Token ids of the concept (TI), one per vector. */
  get tokenIds(): readonly number[] {
    return this.ti?.tokenIds ?? [];
  }

  /** The rates step `s` (0-based) uses. */
  learningRates(s = this.stepsDone): LearningRates {
    const { warmupSteps, method } = this.config;
    const f = warmupSteps > 0 ? Math.min(1, (s + 1) / warmupSteps) : 1;
    return {
      ...(method !== 'lora' && { ti: this.config.tiLearningRate * f }),
      ...(method !== 'ti' && { lora: this.config.loraLearningRate * f }),
    };
  }

  /** The placeholder as prompts spell it: the TI token, or `token classWord` for LoRA alone. */
  get placeholder(): string {
    return this.ti ? this.config.token : `${this.config.token} ${this.config.classWord}`;
  }

  /** One optimizer step. */
  async step(): Promise<StepResult> {
    const started = performance.now();
    const variables = this.variables();
    const lr = this.learningRates();
    const batch = this.sampleBatch();
    let loss: tf.Scalar | null = null;
    let grads: tf.Tensor[] = [];
    try {
      ({ loss, grads } = lossAndGrads(this.model, this.scheduler, batch, variables, { embedTokens: this.ti?.embedTokens, checkpointing: this.config.gradientCheckpointing }));
      const n = this.ti ? 1 : 0;
      this.tiOptimizer?.apply(grads.slice(0, n), lr.ti);
      this.loraOptimizer?.apply(grads.slice(n), lr.lora);
      this.lastLoss = (await loss.data())[0];
    } finally {
      tf.dispose([batch.latents, batch.noise, batch.inputIds, ...(loss ? [loss] : []), ...grads]);
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

  /** Steps until `config.steps`, an abort, or a pause. */
  async run(options: RunOptions = {}): Promise<RunOutcome> {
    while (!this.done) {
      if (options.signal?.aborted) return 'aborted';
      if (options.shouldPause?.()) return 'paused';
      await this.step();
      options.onProgress?.(this.progress());
    }
    return 'done';
  }

  /**
   * The loss on a fixed batch (no update; the trainer's generator is not touched): image
   * i mod N at `timesteps[i]`, latent sample, noise and templates from `seed`. For validation.
   */
  async evaluate(timesteps: readonly number[], seed = 0): Promise<number> {
    const batch = this.sampleBatch(new TrainingRng(seed), timesteps);
    const parts = diffusionLoss(this.model, this.scheduler, batch, { embedTokens: this.ti?.embedTokens });
    try {
      return (await parts.loss.data())[0];
    } finally {
      tf.dispose([batch.latents, batch.noise, batch.inputIds, ...Object.values(parts)]);
    }
  }

  /** The prompt previews use unless told otherwise. */
  get samplePrompt(): string {
    return fillTemplate(templatesFor(this.config.kind)[0], this.placeholder);
  }

  /** An image from the concept as learned so far (the trainer's generator is not touched). */
  async sample(o: SampleOptions = {}, signal?: AbortSignal): Promise<RgbaImage> {
    const size = o.size ?? this.config.resolution;
    const options = { prompt: o.prompt ?? this.samplePrompt, seed: o.seed ?? 0, steps: o.steps ?? 20, width: size, height: size, sampler: 'ddim' as const, guidanceScale: o.guidanceScale ?? 7.5 };
    const { images } = await textToImage(this.model, this.tokenizer, options, { signal, embedTokens: this.ti?.embedTokens });
    return images[0];
  }

  /** Everything needed to go on later, as plain data (no tensors). */
  async checkpoint(): Promise<Checkpoint> {
    const variables = this.variables();
    const moments = [...(this.tiOptimizer?.moments ?? []), ...(this.loraOptimizer?.moments ?? [])];
    const keys = this.keys();
    const read = async (t: tf.Tensor, key: string): Promise<StoredTensor> => ({ key, shape: [...t.shape], data: Float32Array.from(await t.data()) });
    return {
      version: CHECKPOINT_VERSION,
      model: this.model.source,
      config: { ...this.config, targets: [...this.config.targets] },
      step: this.stepsDone,
      rngState: this.rng.state,
      smoothedLoss: this.smoothed,
      tensors: await Promise.all(variables.map((v, i) => read(v, keys[i]))),
      moments: await Promise.all(moments.map((m, i) => read(m, keys[i]))),
      created: Date.now(),
    };
  }

  /** Frees the trainable tensors, optimizer state and cached latents; detaches the LoRA. */
  dispose(): void {
    this.tiOptimizer?.dispose();
    this.loraOptimizer?.dispose();
    this.ti?.dispose();
    this.lora?.dispose();
    this.latents.forEach((l) => tf.dispose([l.mean, l.std]));
    this.latents.length = 0;
  }

  /** Trainable tensors: TI vectors first, then LoRA down/up per layer. */
  private variables(): tf.Variable[] {
    return [...(this.ti ? [this.ti.vectors] : []), ...(this.lora?.variables() ?? [])];
  }

  /** Trainable keys in variable order. */
  private keys(): string[] {
    return [...(this.ti ? [TI_KEY] : []), ...(this.lora?.keys() ?? [])];
  }

  /**
   * Steps 1–3: a batch drawn from `rng` (images, ε, t, ε', templates, in that order), or with
   * given timesteps (image i mod N for element i).
   */
  private sampleBatch(rng = this.rng, fixed?: readonly number[]): TrainingBatch {
    const { kind } = this.config;
    const batchSize = fixed?.length ?? this.config.batchSize;
    const numTimesteps = this.scheduler.alphasCumprod.length;
    const picks = Array.from({ length: batchSize }, (_, i) => (fixed ? i % this.latents.length : rng.int(this.latents.length)));
    const [, C, h, w] = this.latents[0].mean.shape;
    const size = batchSize * C * h * w;
    const eps = rng.normals(size);
    const timesteps = fixed ? [...fixed] : Array.from({ length: batchSize }, () => rng.int(numTimesteps));
    const noise = rng.normals(size);
    const prompts = picks.map(() => templatePrompt(kind, this.placeholder, rng.next()));
    const ids = prompts.map((p) => this.tokenizer.encode(p).ids);
    const scaling = this.model.vae.config.scalingFactor;
    const latents = tf.tidy(() => {
      const mean = tf.concat(picks.map((i) => this.latents[i].mean));
      const std = tf.concat(picks.map((i) => this.latents[i].std));
      return tf.mul(tf.add(mean, tf.mul(std, tf.tensor4d(eps, [batchSize, C, h, w]))), scaling) as tf.Tensor4D;
    });
    return {
      latents,
      noise: tf.tensor4d(noise, [batchSize, C, h, w]),
      timesteps,
      inputIds: tf.tensor2d(ids, [batchSize, ids[0].length], 'int32'),
    };
  }
}
