/**
 * The training data: every image VAE-encoded once (step 0), and the batches drawn from it
 * (steps 1–3 of the loop):
 *   1. pick `batchSize` images; latents z0 = (mean + std · ε) · scaling_factor;
 *   2. timesteps t ~ U{0, …, num_train_timesteps − 1}, noise ε' ~ N(0, I);
 *   3. a random template prompt with the concept's placeholder → token ids.
 */
import * as tf from '../gpu/tf';
import type { SeededRng } from '../common/random';
import type { StableDiffusionModel } from '../model/load';
import type { ClipTokenizer } from '../model/tokenizer';
import type { Posterior } from '../model/vae';
import type { TrainingBatch } from './loss';
import { templatePrompt } from './templates';

/** A cached posterior of one image: [1, 4, h, w] each. */
export interface CachedLatent {
  mean: tf.Tensor4D;
  std: tf.Tensor4D;
}

/** Step 0: the posterior of each of `images` ([N, 3, R, R] in [-1, 1], NCHW, row-major). */
export function encodeImages(images: Float32Array, resolution: number, encode: (image: tf.Tensor4D) => Posterior): CachedLatent[] {
  const R = resolution;
  const perImage = 3 * R * R;
  if (images.length === 0 || images.length % perImage !== 0) {
    throw new Error(`training images: ${images.length} values is not a whole number of [3, ${R}, ${R}] images.`);
  }
  const latents: CachedLatent[] = [];
  try {
    for (let i = 0; i < images.length / perImage; i++) {
      latents.push(
        tf.tidy(() => {
          const image = tf.tensor4d(images.subarray(i * perImage, (i + 1) * perImage), [1, 3, R, R]);
          const { mean, logvar } = encode(image);
          return { mean: tf.keep(mean), std: tf.keep(tf.exp(tf.mul(logvar, 0.5)) as tf.Tensor4D) };
        }),
      );
    }
    return latents;
  } catch (error) {
    disposeLatents(latents);
    throw error;
  }
}

export function disposeLatents(latents: CachedLatent[]): void {
  latents.forEach((l) => tf.dispose([l.mean, l.std]));
  latents.length = 0;
}

/** What a batch is drawn from. */
export interface BatchSource {
  model: StableDiffusionModel;
  tokenizer: ClipTokenizer;
  latents: readonly CachedLatent[];
  /** The run's prompt templates. */
  templates: readonly string[];
  /** How prompts spell the concept. */
  placeholder: string;
  numTimesteps: number;
}

/**
 * Steps 1–3: a batch drawn from `rng` (images, ε, t, ε', templates, in that order), or with
 * given timesteps (image i mod N for element i).
 */
export function sampleBatch(source: BatchSource, rng: SeededRng, batchSize: number, fixed?: readonly number[]): TrainingBatch {
  const { latents: cached, numTimesteps } = source;
  const size = fixed?.length ?? batchSize;
  const picks = Array.from({ length: size }, (_, i) => (fixed ? i % cached.length : rng.int(cached.length)));
  const [, C, h, w] = cached[0].mean.shape;
  const n = size * C * h * w;
  const eps = rng.normals(n);
  const timesteps = fixed ? [...fixed] : Array.from({ length: size }, () => rng.int(numTimesteps));
  const noise = rng.normals(n);
  const prompts = picks.map(() => templatePrompt(source.templates, source.placeholder, rng.next()));
  const ids = prompts.map((p) => source.tokenizer.encode(p).ids);
  const scaling = source.model.vae.config.scalingFactor;
  const latents = tf.tidy(() => {
    const mean = tf.concat(picks.map((i) => cached[i].mean));
    const std = tf.concat(picks.map((i) => cached[i].std));
    return tf.mul(tf.add(mean, tf.mul(std, tf.tensor4d(eps, [size, C, h, w]))), scaling) as tf.Tensor4D;
  });
  return {
    latents,
    noise: tf.tensor4d(noise, [size, C, h, w]),
    timesteps,
    inputIds: tf.tensor2d(ids, [size, ids[0].length], 'int32'),
  };
}

export function disposeBatch(batch: TrainingBatch): void {
  tf.dispose([batch.latents, batch.noise, batch.inputIds]);
}

/** One batch of `first`'s rows then `second`'s (DreamBooth: the photos, then the class images); both are disposed. */
export function concatBatches(first: TrainingBatch, second: TrainingBatch): TrainingBatch {
  const both = tf.tidy(() => ({
    latents: tf.concat([first.latents, second.latents]),
    noise: tf.concat([first.noise, second.noise]),
    inputIds: tf.concat([first.inputIds, second.inputIds]),
  }));
  disposeBatch(first);
  disposeBatch(second);
  return { ...both, timesteps: [...first.timesteps, ...second.timesteps] };
}
