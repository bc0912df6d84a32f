/**
 * A concept of the user's library: what the studio learned (or imported) for one new word, as
 * plain structured-clonable data: it is kept in IndexedDB by the page and sent to the engine
 * when a prompt uses its token. No tensors, no tfjs.
 */
import { promptUsesToken } from '../model/prompt-tokens';
import type { ConceptUse } from './generation-settings';
import type { LossCurve } from './loss-curve';
import type { LoraComponent } from '../train/formats/lora-modules';
import type { ConceptKind } from '../train/templates';
import type { TrainingMethod } from '../train/config';
import type { PerfusionWeights } from '../train/formats/perfusion-file';
import type { PhotoCrop } from './photo-crop';
import type { EvaluationRecord } from './evaluation';

/** Textual-inversion vectors: [nVectors, dim] row-major. */
export interface ConceptEmbedding {
  nVectors: number;
  dim: number;
  vectors: Float32Array;
}

/**
 * One adapted module: a UNet linear or convolution (`down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k`,
 * `down_blocks.0.resnets.0.conv1`) or a text-encoder linear (`encoder.layers.0.self_attn.q_proj`).
 */
export interface ConceptLoraLayer {
  /** The module's weight key without `.weight`, in its component's model. */
  prefix: string;
  /** Absent: the UNet (every concept stored before text-encoder LoRAs). */
  component?: LoraComponent;
  /** [rank, in] row-major (a linear), or [rank, in, kh, kw] (a convolution: LoCon, 1×1 proj_in/out). */
  down: Float32Array;
  downShape: number[];
  /** [out, rank] row-major. */
  up: Float32Array;
  upShape: [number, number];
  /** The layer's alpha: its output is scaled by alpha / rank (times the concept's strength). */
  alpha: number;
}

export interface ConceptLora {
  layers: ConceptLoraLayer[];
}

/**
 * P+ (Extended Textual Inversion): the token's vector at each cross-attention layer, `layers[l]`
 * the attn2 module path of row l (forward order, `model/cross-attention.ts`); [layers, dim] row-major.
 */
export interface ConceptLayerEmbeddings {
  layers: string[];
  dim: number;
  vectors: Float32Array;
}

/**
 * Perfusion (key-locked rank-1 editing, Tewel et al. 2023): per cross-attention layer `layers[l]`
 * (attn2 module path, forward order) the locked key target o_K = W_k i_super and the learned value
 * target v*, and the concept input i* with C⁻¹ i* (C: the model's text-encoding covariance,
 * `train/perfusion-covariance.ts`), which is all the edit needs at generation (several concepts'
 * C⁻¹-orthonormal basis comes from their i* and C⁻¹ i*); the gate's bias β at generation (the
 * fidelity ↔ prompt knob; 0.7 by default) and temperature τ (0.15). The token's embedding is `embedding`.
 */
export type ConceptPerfusion = PerfusionWeights;

export interface Concept {
  id: string;
  /** As prompts write it, e.g. `<my-dog>`. */
  token: string;
  /** What it is (`dog`); '' when unknown (some imports). */
  classWord: string;
  kind: ConceptKind;
  origin: 'trained' | 'imported';
  /**
   * The model it was trained for, by name (`owner/name`, `tiny-sd`; older concepts: an old-style id,
   * `hf:owner/name@rev`, `local:folder`), or what a file's metadata says; '' unknown. Matched to the
   * loaded model by `namesModel` (model/sources/model-id.ts).
   */
  baseModel: string;
  /** Date.now() when trained or imported. */
  created: number;
  /** Optimizer steps it was trained for, when known. */
  steps: number | null;
  embedding: ConceptEmbedding | null;
  lora: ConceptLora | null;
  /** P+ concepts: a vector per cross-attention layer (then `embedding` is null). Absent: none. */
  layerEmbeddings?: ConceptLayerEmbeddings;
  /** The LoRA's strength at generation time (1 = as trained). */
  loraStrength: number;
  /** Its text-encoder layers' strength (A1111's `<lora:name:te:unet>`); absent: `loraStrength`. */
  textEncoderStrength?: number;
  /** Training photos, as the user gave them (trained concepts; none for imports). */
  photos: Blob[];
  /** Each photo's square as trained (`photo-crop.ts`); absent: the centred squares. */
  crops?: PhotoCrop[];
  /** The file it was imported from. */
  fileName?: string;
  /** The training run it came from (its checkpoints may still be stored). */
  runId?: string;
  /** Its training loss against step, at most 2,000 points (trained concepts; absent in older ones). */
  lossCurve?: LossCurve;
  /** Its DreamBench-style evaluations with their settings, oldest first (`evaluation.ts`; absent: never evaluated). */
  evaluations?: EvaluationRecord[];
  /** Perfusion concepts: the K/V edit (with `embedding`, the token's vector). Absent: none. */
  perfusion?: ConceptPerfusion;
  /** How it was trained, where its weights do not tell ('dreambooth': a LoRA trained with prior preservation); absent: from the weights (`conceptMethod`). */
  method?: TrainingMethod;
}

/** The concept's method: as stored, else what its weights hold (TI, LoRA or both). */
export function conceptMethod(c: Pick<Concept, 'embedding' | 'lora' | 'method' | 'layerEmbeddings' | 'perfusion'>): TrainingMethod {
  return c.method ?? (c.perfusion ? 'perfusion' : c.layerEmbeddings ? 'pplus' : c.embedding && c.lora ? 'both' : c.lora ? 'lora' : 'ti');
}

/** What a generation request carries of a concept: no photos, no bookkeeping. */
export type ConceptWeights = Pick<Concept, 'token' | 'embedding' | 'lora' | 'loraStrength' | 'textEncoderStrength' | 'layerEmbeddings' | 'perfusion'> & {
  /** LoRA-only concepts: prompts write `token classWord`; the LoRA is what carries the concept. */
  classWord: string;
};

/** The concepts whose token the prompt (or negative prompt) uses as a word (prompt-tokens.ts). */
export function conceptsInPrompt<T extends Pick<Concept, 'token'>>(concepts: readonly T[], ...prompts: string[]): T[] {
  return concepts.filter((c) => prompts.some((p) => promptUsesToken(p, c.token)));
}

export function conceptWeights(c: Concept): ConceptWeights {
  return {
    token: c.token,
    classWord: c.classWord,
    embedding: c.embedding,
    lora: c.lora,
    loraStrength: c.loraStrength,
    ...(c.textEncoderStrength !== undefined && { textEncoderStrength: c.textEncoderStrength }),
    ...(c.layerEmbeddings !== undefined && { layerEmbeddings: c.layerEmbeddings }),
    ...(c.perfusion !== undefined && { perfusion: c.perfusion }),
  };
}

/** How a generation applied the concept, at its stored strengths (the gallery's record of it). */
export function conceptUse(c: Concept): ConceptUse {
  const method = conceptMethod(c);
  return {
    id: c.id,
    token: c.token,
    method,
    strength: c.lora ? c.loraStrength : 1,
    ...(c.textEncoderStrength !== undefined && c.textEncoderStrength !== c.loraStrength && { textEncoderStrength: c.textEncoderStrength }),
  };
}
