/**
 * Everything that made a generated image, as the gallery stores it, the composer is filled from
 * ("Use these settings") and a PNG's `parameters` chunk is written from. Plain data.
 */
import type { SamplerName } from '../model/text-to-image-options';

/** A library concept as one generation applied it. */
export interface ConceptUse {
  /** The library concept's id (it may since have been deleted: the token and method stay as text). */
  id: string;
  token: string;
  method: 'ti' | 'lora' | 'both' | 'dreambooth' | 'pplus' | 'perfusion';
  /** The LoRA's strength in this generation (1 for embeddings alone). */
  strength: number;
  /** The text-encoder layers' own strength, when the concept has some and it differs. */
  textEncoderStrength?: number;
}

export interface GenerationSettings {
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidanceScale: number;
  sampler: SamplerName;
  /** The seed of this image (a batch's image i used the request's seed + i). */
  seed: number;
  width: number;
  height: number;
  /** The model's id (`builtin:shapes-sd`, `hf:…`) and its name as people read it. */
  modelId: string;
  modelName: string;
  concepts: ConceptUse[];
}
