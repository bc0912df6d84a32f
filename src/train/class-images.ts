/**
 * DreamBooth's class images (prior preservation; diffusers' train_dreambooth_lora.py
 * `--with_prior_preservation`): drawn once by the frozen model (no LoRA) from the class prompt
 * "a <class>", then VAE-encoded like the user's photos and kept with the run's checkpoints, so a
 * resumed run reuses them. Image i: DDIM, `classImageSteps` steps, guidance 7.5, seed `seed + i`,
 * at the training resolution, quantised to 8-bit RGB as a saved image would be.
 */
import * as tf from '../gpu/tf';
import type { StableDiffusionModel } from '../model/load';
import { textToImage, type PromptTokenizer, type RgbaImage } from '../model/pipeline';
import { encodeImages, type CachedLatent } from './batch';
import type { TrainerConfig } from './config';
import type { Lora } from './lora';
import type { RunHooks, RunOutcome } from './run-hooks';
import { trainingInput } from './training-input';
import type { Posterior } from '../model/vae';
import type { StoredClassLatents, StoredTensor } from './checkpoint';

/** The sampler and guidance every class image is drawn with. */
export const CLASS_IMAGE_SAMPLING = { sampler: 'ddim', guidanceScale: 7.5, negativePrompt: '' } as const;

/** diffusers' class prompt: "a <class>". */
export function classPrompt(classWord: string): string {
  return `a ${classWord}`;
}

/** diffusers' instance prompt, "a <token> <class>" (the placeholder), unless the run has its own templates. */
export const INSTANCE_TEMPLATES: readonly string[] = ['a {}'];

/** One class image to draw. */
export interface ClassImageRequest {
  prompt: string;
  seed: number;
  steps: number;
  /** Side in pixels. */
  size: number;
}

/** Draws one class image; the trainer has taken its adapters off the model first. */
export type ClassImageSampler = (request: ClassImageRequest, signal?: AbortSignal) => Promise<RgbaImage>;

/** The seed of class image `i` of a run seeded `seed`. */
export function classImageSeed(seed: number, i: number): number {
  return (seed + i) >>> 0;
}

/** The pipeline's text-to-image with the class-image settings. */
export function frozenModelSampler(model: StableDiffusionModel, tokenizer: PromptTokenizer): ClassImageSampler {
  return async ({ prompt, seed, steps, size }, signal) => {
    const options = { prompt, seed, steps, width: size, height: size, ...CLASS_IMAGE_SAMPLING };
    const { images } = await textToImage(model, tokenizer, options, { signal });
    return images[0];
  };
}

/** The cached posteriors as data (n may be 0 before the first is drawn: then null). */
export async function storeClassLatents(latents: readonly CachedLatent[]): Promise<StoredClassLatents | null> {
  if (latents.length === 0) return null;
  const stack = async (key: string, parts: tf.Tensor4D[]): Promise<StoredTensor> => {
    const [, C, h, w] = parts[0].shape;
    const data = new Float32Array(parts.length * C * h * w);
    for (let i = 0; i < parts.length; i++) data.set(await parts[i].data(), i * C * h * w);
    return { key, shape: [parts.length, C, h, w], data };
  };
  return { mean: await stack('class.mean', latents.map((l) => l.mean)), std: await stack('class.std', latents.map((l) => l.std)) };
}

/** Stored posteriors back on the GPU, one cached latent per class image. */
export function restoreClassLatents(stored: StoredClassLatents | undefined): CachedLatent[] {
  if (!stored) return [];
  const [n, C, h, w] = stored.mean.shape;
  const size = C * h * w;
  const at = (t: StoredTensor, i: number) => tf.tensor4d(t.data.slice(i * size, (i + 1) * size), [1, C, h, w]);
  return Array.from({ length: n }, (_, i) => ({ mean: at(stored.mean, i), std: at(stored.std, i) }));
}

/** What drawing reads and fills: the run's settings, its class latents so far (appended to), the VAE's encoding, the adapters to take off while drawing. */
export interface ClassImageDraw {
  config: Pick<TrainerConfig, 'classImages' | 'classWord' | 'seed' | 'classImageSteps' | 'resolution'>;
  latents: CachedLatent[];
  encode: (image: tf.Tensor4D) => Posterior;
  adapters: readonly Lora[];
  sample: ClassImageSampler;
}

/**
 * Draws the class images not drawn yet, with the adapters off the model (the frozen model), each
 * encoded at once; `paused` and `aborted` keep the ones done.
 */
export async function drawClassImages(d: ClassImageDraw, hooks: Pick<RunHooks, 'signal' | 'shouldPause' | 'onClassImages'> = {}): Promise<RunOutcome> {
  const { classImages, classWord, seed, classImageSteps, resolution } = d.config;
  while (d.latents.length < classImages) {
    if (hooks.signal?.aborted) return 'aborted';
    if (hooks.shouldPause?.()) return 'paused';
    const i = d.latents.length;
    d.adapters.forEach((l) => l.detach());
    let image;
    try {
      image = await d.sample({ prompt: classPrompt(classWord), seed: classImageSeed(seed, i), steps: classImageSteps, size: resolution }, hooks.signal);
    } finally {
      d.adapters.forEach((l) => l.attach());
    }
    d.latents.push(...encodeImages(trainingInput([image]), resolution, d.encode));
    hooks.onClassImages?.(d.latents.length, classImages);
  }
  return 'done';
}
