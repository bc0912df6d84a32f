/**
 * Training previews: images of the concept as learned so far, the same prompt and seed each
 * time so that they show the progress. Sampling never touches the trainer's generator.
 */
import type { StableDiffusionModel } from '../model/load';
import { textToImage, type RgbaImage } from '../model/pipeline';
import type { ClipTokenizer } from '../model/tokenizer';
import type * as tf from '../gpu/tf';
import type { LayerTokenMap } from '../model/layer-tokens';
import type { CrossAttentionHooks } from '../model/unet';
import { fillTemplate, templatesFor, type ConceptKind } from './templates';

/** How a preview is made. */
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

/** A preview image, at the step it shows. */
export interface TrainingPreview {
  step: number;
  prompt: string;
  image: RgbaImage;
}

/** The prompt previews use unless told otherwise. */
export function samplePrompt(kind: ConceptKind, placeholder: string, templates?: readonly string[]): string {
  return fillTemplate(templatesFor(kind, templates)[0], placeholder);
}

/** What a concept's previews are drawn with. */
export interface PreviewSource {
  model: StableDiffusionModel;
  /** With the concept's tokens added. */
  tokenizer: ClipTokenizer;
  embedTokens?: (ids: tf.Tensor2D) => tf.Tensor3D;
  /** P+: the concept's per-layer token ids. */
  layerTokens?: LayerTokenMap;
  /** Perfusion: the edit on every attn2. */
  crossAttention?: CrossAttentionHooks;
  kind: ConceptKind;
  templates?: readonly string[];
  placeholder: string;
  resolution: number;
}

/** One image of the concept: DDIM, 20 steps, seed 0 and guidance 7.5 unless told otherwise. */
export async function sampleConcept(source: PreviewSource, o: SampleOptions = {}, signal?: AbortSignal): Promise<{ prompt: string; image: RgbaImage }> {
  const size = o.size ?? source.resolution;
  const prompt = o.prompt ?? samplePrompt(source.kind, source.placeholder, source.templates);
  const options = { prompt, seed: o.seed ?? 0, steps: o.steps ?? 20, width: size, height: size, sampler: 'ddim' as const, guidanceScale: o.guidanceScale ?? 7.5 };
  const { images } = await textToImage(source.model, source.tokenizer, options, { signal, embedTokens: source.embedTokens, layerTokens: source.layerTokens, crossAttention: source.crossAttention });
  return { prompt, image: images[0] };
}
