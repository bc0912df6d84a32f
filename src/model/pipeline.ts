/**
 * Text-to-image (diffusers StableDiffusionPipeline semantics, classifier-free guidance), in
 * stages that parity checks and the engine call separately:
 *   1. encode prompt and negative prompt   → embeddings [2B, 77, D], unconditional first
 *   2. prepare the sampler's timesteps
 *   3. seeded initial latents × init_noise_sigma
 *   4. denoise: per step, UNet on [latents; latents], ε = ε_u + s (ε_c − ε_u), sampler step
 *   5. decode: VAE on latents / scaling_factor, then (x / 2 + 0.5) clamped to [0, 1]
 */
import * as tf from '../gpu/tf';
import { clipTextEncoder } from './clip';
import type { StableDiffusionModel } from './load';
import { randomNormal } from '../common/random';
import type { EncodedPrompt } from './tokenizer';
import { makeSampler, type Sampler } from './schedulers';
import { TEXT_TO_IMAGE_DEFAULTS, type RgbaImage, type TextToImageOptions, type TextToImageResult } from './text-to-image-options';
import { unetForward, unetForwardByBlocks, type BetweenBlocks, type CrossAttentionHooks } from './unet';
import { crossAttentionPaths } from './cross-attention';
import { layerRows, usesLayerTokens, type LayerTokenMap } from './layer-tokens';
import { gpuPacer } from '../gpu/pace';
import { limitPooledFreeBytes, pooledFreeBytesLimit } from '../gpu/memory';
import { vaeDecode } from './vae';

export { SAMPLER_NAMES, TEXT_TO_IMAGE_DEFAULTS, type RgbaImage, type SamplerName, type TextToImageOptions, type TextToImageResult } from './text-to-image-options';

export interface PromptTokenizer {
  encode(prompt: string): EncodedPrompt;
}

/** A token lookup for the text encoder (concepts' textual-inversion vectors). */
export type EmbedTokens = (ids: tf.Tensor2D) => tf.Tensor3D;

export interface GenerationHooks {
  onStep?: (report: StepReport) => void;
  /** Checked between steps and after each UNet layer: a cancel stops the job within a step. */
  signal?: AbortSignal;
  /** After each UNet layer is queued, with its module name (before the cancel check). */
  onBlock?: (block: string) => void;
  /** A latent preview every this many steps. */
  previewEvery?: number;
  embedTokens?: EmbedTokens;
  /** P+ concepts' tokens: a prompt using one is encoded per cross-attention layer (`layer-tokens.ts`). */
  layerTokens?: LayerTokenMap;
  /** Hooks on every attn2 besides P+'s contexts (Perfusion's K/V edit). */
  crossAttention?: CrossAttentionHooks;
}

export interface StepReport {
  step: number;
  total: number;
  /** A cheap preview (latents mapped linearly to RGB, 1/8 size) of the first image. */
  preview?: RgbaImage;
}

export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor() {
    super('Generation was cancelled.');
  }
}

/** 1. Prompt and negative prompt → [2B, N, D], unconditional rows first. */
export function encodePrompts(model: StableDiffusionModel, promptIds: number[], negativeIds: number[], batch: number, embedTokens?: EmbedTokens): tf.Tensor3D {
  return encodePromptRows(model, Array(batch).fill(promptIds), negativeIds, embedTokens);
}

/** One conditional row per image (`rows`), the negative prompt's row as many times, first. */
export function encodePromptRows(model: StableDiffusionModel, rows: number[][], negativeIds: number[], embedTokens?: EmbedTokens): tf.Tensor3D {
  return tf.tidy(() => {
    const n = negativeIds.length;
    const ids = tf.tensor2d([...Array(rows.length).fill(negativeIds).flat(), ...rows.flat()], [2 * rows.length, n], 'int32');
    const out = clipTextEncoder(model.text.weights, model.text.config, ids, { embedTokens });
    out.pooled.dispose();
    return out.lastHiddenState;
  });
}

/** Text states for the UNet: one for every layer, or (`layers`) one per cross-attention layer in forward order. */
export interface PromptStates {
  embeddings: tf.Tensor3D;
  layers: tf.Tensor3D[] | null;
}

/**
 * `encodePromptRows` per cross-attention layer when a row uses a P+ token: each distinct row of
 * every layer is encoded once, all in one text-encoder call, and layer l's states gathered from
 * them (the negative rows, the same at every layer unless they use the token, are encoded once).
 */
export function encodePromptLayers(model: StableDiffusionModel, rows: number[][], negativeIds: number[], embedTokens?: EmbedTokens, layerTokens?: LayerTokenMap): PromptStates {
  const all = [...Array(rows.length).fill(negativeIds), ...rows] as number[][];
  if (!layerTokens || !usesLayerTokens(all, layerTokens)) return { embeddings: encodePromptRows(model, rows, negativeIds, embedTokens), layers: null };
  const { unique, index } = layerRows(all, layerTokens, crossAttentionPaths(model.unet.config).length);
  const layers = tf.tidy(() => {
    const ids = tf.tensor2d(unique.flat(), [unique.length, negativeIds.length], 'int32');
    const out = clipTextEncoder(model.text.weights, model.text.config, ids, { embedTokens });
    return index.map((rowsOfLayer) => tf.gather(out.lastHiddenState, tf.tensor1d(rowsOfLayer, 'int32')) as tf.Tensor3D);
  });
  return { embeddings: layers[0], layers };
}

/** The UNet hooks feeding layer l its own states. */
function layerHooks(layers: tf.Tensor3D[] | null): CrossAttentionHooks | undefined {
  return layers ? { context: (l) => layers[l] } : undefined;
}

type GuidedStep = {
  latents: tf.Tensor4D;
  uncond: tf.Tensor4D;
  cond: tf.Tensor4D;
};

/** The UNet's input for step t: the latents twice (unconditional, conditional), scaled. */
function modelInput(sampler: Sampler, latents: tf.Tensor4D, t: number): tf.Tensor4D {
  return tf.tidy(() => sampler.scaleModelInput(tf.concat([latents, latents], 0), t) as tf.Tensor4D);
}

/** 4. One guided denoising step; returns the new latents. */
export function denoiseStep(model: StableDiffusionModel, sampler: Sampler, latents: tf.Tensor4D, t: number, embeddings: tf.Tensor3D, guidanceScale: number): GuidedStep {
  return tf.tidy(() => {
    const input = modelInput(sampler, latents, t);
    const eps = unetForward(model.unet.weights, model.unet.config, { sample: input, timesteps: Array(input.shape[0]).fill(t), encoderHiddenStates: embeddings });
    return guide(sampler, latents, t, eps, guidanceScale);
  });
}

/** `denoiseStep` with the UNet run layer by layer, `between` after each (`unetForwardByBlocks`). */
export async function denoiseStepByBlocks(
  model: StableDiffusionModel,
  sampler: Sampler,
  latents: tf.Tensor4D,
  t: number,
  embeddings: tf.Tensor3D,
  guidanceScale: number,
  between: BetweenBlocks,
  crossAttention?: CrossAttentionHooks,
): Promise<GuidedStep> {
  const input = modelInput(sampler, latents, t);
  let eps: tf.Tensor4D;
  try {
    eps = await unetForwardByBlocks(model.unet.weights, model.unet.config, { sample: input, timesteps: Array(input.shape[0]).fill(t), encoderHiddenStates: embeddings, crossAttention }, between);
  } finally {
    input.dispose();
  }
  try {
    return tf.tidy(() => guide(sampler, latents, t, eps, guidanceScale));
  } finally {
    eps.dispose();
  }
}

/** ε = ε_u + s (ε_c − ε_u), then the sampler's step from `latents`. */
function guide(sampler: Sampler, latents: tf.Tensor4D, t: number, eps: tf.Tensor4D, guidanceScale: number): GuidedStep {
  return tf.tidy(() => {
    const [uncond, cond] = tf.split(eps, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
    const guided = tf.add(uncond, tf.mul(tf.sub(cond, uncond), guidanceScale));
    const { prevSample, predOriginalSample } = sampler.step(guided, t, latents);
    predOriginalSample.dispose();
    return { latents: prevSample as tf.Tensor4D, uncond, cond };
  });
}

/** 5. Latents → the VAE's images, NCHW in about [-1, 1]. */
export function decodeLatents(model: StableDiffusionModel, latents: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => vaeDecode(model.vae.weights, model.vae.config, tf.div(latents, model.vae.config.scalingFactor) as tf.Tensor4D));
}

/** [-1, 1] → [0, 1], clamped (what the diffusers pipeline returns). */
export function toUnitRange(decoded: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.div(decoded, 2), 0.5), 0, 1) as tf.Tensor4D);
}

/** SD 1.x latent → RGB approximation for previews (a fixed linear map, no VAE). */
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

async function toRgba(images: tf.Tensor4D): Promise<RgbaImage[]> {
  const [B, , H, W] = images.shape;
  const nhwc = tf.tidy(() => tf.mul(images.transpose([0, 2, 3, 1]), 255));
  const data = await nhwc.data();
  nhwc.dispose();
  return Array.from({ length: B }, (_, b) => {
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      for (let ch = 0; ch < 3; ch++) rgba[i * 4 + ch] = data[(b * H * W + i) * 3 + ch];
      rgba[i * 4 + 3] = 255;
    }
    return { width: W, height: H, data: rgba };
  });
}

async function preview(latents: tf.Tensor4D): Promise<RgbaImage> {
  const rgb = tf.tidy(() => {
    const first = latents.slice([0, 0, 0, 0], [1, -1, -1, -1]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
    const mapped = tf.matMul(first.reshape([-1, 4]), tf.tensor2d(LATENT_RGB));
    const [h, w] = [latents.shape[2], latents.shape[3]];
    return tf.clipByValue(tf.add(tf.div(mapped, 2), 0.5), 0, 1).reshape([1, h, w, 3]).transpose([0, 3, 1, 2]) as tf.Tensor4D;
  });
  const [image] = await toRgba(rgb);
  rgb.dispose();
  return image;
}

/**
 * The most bytes of freed GPU buffers kept for reuse while an image is drawn (as a training run
 * keeps): at 512 px tfjs's pool held 0.45 GB of free buffers beside 0.30 GB in use.
 */
export const GENERATION_POOLED_FREE_BYTES = 64 * 2 ** 20;

export async function textToImage(
  model: StableDiffusionModel,
  tokenizer: PromptTokenizer,
  options: TextToImageOptions,
  hooks: GenerationHooks = {},
): Promise<TextToImageResult> {
  const o = { ...TEXT_TO_IMAGE_DEFAULTS, ...options };
  // Options out of range throw RangeError (the engine reports those as the user's to fix).
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (o.width % 8 !== 0 || o.height % 8 !== 0 || o.width <= 0 || o.height <= 0) {
    throw new RangeError(`Image size ${o.width}×${o.height} must be positive multiples of 8.`);
  }
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new RangeError(`steps must be a positive integer, got ${o.steps}.`);

  // 1. prompts
  const prompts = (options.prompts ?? [o.prompt]).map((p) => tokenizer.encode(p));
  if (prompts.length === 0) throw new RangeError('No prompt to draw.');
  const negative = tokenizer.encode(o.negativePrompt);
  const states = encodePromptLayers(model, prompts.flatMap((p) => Array(o.batch).fill(p.ids)), negative.ids, hooks.embedTokens, hooks.layerTokens);
  const { embeddings } = states;
  const contexts = layerHooks(states.layers);
  const crossAttention = hooks.crossAttention || contexts ? { ...hooks.crossAttention, ...contexts } : undefined;
  const dropped = prompts.find((p) => p.droppedTokenCount > 0) ?? prompts[0];

  // 2. timesteps
  const sampler = makeSampler(o.sampler, model.schedulerConfig);
  const timesteps = sampler.setTimesteps(o.steps);

  // 3. initial latents
  // Image i of a batch starts from seed + i, so a seed gives the same image at any batch size.
  const total = prompts.length * o.batch;
  const shape: [number, number, number, number] = [total, model.unet.config.inChannels, o.height / 8, o.width / 8];
  const perImage = shape[1] * shape[2] * shape[3];
  const noise = new Float32Array(total * perImage);
  for (let i = 0; i < total; i++) noise.set(randomNormal(perImage, (seed + (i % o.batch)) >>> 0, sampler.initNoiseSigma), i * perImage);
  let latents = tf.tensor4d(noise, shape);

  // After each UNet layer: at most two layers queued on the GPU, and a cancel honoured.
  const pace = gpuPacer();
  const between = async (block: string) => {
    hooks.onBlock?.(block);
    await pace();
    if (hooks.signal?.aborted) throw new CancelledError();
  };
  const pooled = pooledFreeBytesLimit();
  limitPooledFreeBytes(Math.min(pooled, GENERATION_POOLED_FREE_BYTES));
  try {
    // 4. denoise
    for (let i = 0; i < timesteps.length; i++) {
      if (hooks.signal?.aborted) throw new CancelledError();
      const next = await denoiseStepByBlocks(model, sampler, latents, timesteps[i], embeddings, o.guidanceScale, between, crossAttention);
      next.uncond.dispose();
      next.cond.dispose();
      latents.dispose();
      latents = next.latents;
      const wantPreview = hooks.previewEvery !== undefined && (i + 1) % hooks.previewEvery === 0 && i + 1 < timesteps.length;
      hooks.onStep?.({ step: i + 1, total: timesteps.length, preview: wantPreview ? await preview(latents) : undefined });
      await tf.nextFrame?.();
    }
    // 5. decode (not after a cancel during the last step)
    if (hooks.signal?.aborted) throw new CancelledError();
    const decoded = decodeLatents(model, latents);
    const images = toUnitRange(decoded);
    const rgba = await toRgba(images);
    tf.dispose([decoded, images]);
    return { images: rgba, seed, droppedText: dropped.droppedText, droppedTokenCount: dropped.droppedTokenCount };
  } finally {
    limitPooledFreeBytes(pooled);
    latents.dispose();
    tf.dispose(states.layers ?? embeddings);
  }
}
