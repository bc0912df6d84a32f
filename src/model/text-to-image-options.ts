/**
 * What a text-to-image request asks for and gets back, and its defaults: plain data, no tfjs, so
 * the page's Generate form and the pipeline share one table.
 */

export const SAMPLER_NAMES = ['ddim', 'euler'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export interface TextToImageOptions {
  prompt: string;
  negativePrompt?: string;
  guidanceScale?: number;
  steps?: number;
  sampler?: SamplerName;
  seed?: number;
  /** Pixels, multiples of 8. */
  width?: number;
  height?: number;
  /** Images per prompt. */
  batch?: number;
  /**
   * Several prompts in one batch (in place of `prompt`): `batch` images of each, image i of every
   * prompt from seed + i, so prompts are compared on the same noise.
   */
  prompts?: string[];
}

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  data: Uint8ClampedArray;
}

export interface TextToImageResult {
  /** Prompt by prompt, `batch` images each. */
  images: RgbaImage[];
  /** Image i (of each prompt) was made from seed + i. */
  seed: number;
  /** What truncation to the encoder's 77 tokens cut from the prompt ('' when nothing). */
  droppedText: string;
  droppedTokenCount: number;
}

/** What a request that leaves an option out gets (the Generate form starts from these). */
export const TEXT_TO_IMAGE_DEFAULTS = { negativePrompt: '', guidanceScale: 7.5, steps: 25, sampler: 'ddim' as SamplerName, width: 512, height: 512, batch: 1 };
