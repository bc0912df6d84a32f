/**
 * `__metadata__` keys the studio writes into every exported file (all values are strings, as
 * safetensors requires). Neutral names under `studio.`; other tools ignore unknown keys.
 *
 *   studio.tool        "diffusion-studio" (who wrote the file)
 *   studio.kind        "textual-inversion" | "lora" | "pplus" | "perfusion"
 *   studio.layout      "single-key" | "emb_params" | "kohya" | "peft" | "per-layer" | "kohya-xti" | "key-locked"
 *   studio.base_model  base model id, e.g. "stable-diffusion-v1-5/stable-diffusion-v1-5"
 *   studio.steps       training steps (integer)
 *   studio.created     ISO 8601 date-time
 *   studio.token       the concept's token, e.g. "<my-cat>" (LoRA: when it has one)
 *   studio.class_word  what the concept is, e.g. "cat" (the embedding's initialisation)
 *   studio.vectors     (embedding) number of vectors
 *   studio.dim         (embedding) width of each vector
 *   studio.rank        (LoRA) rank r
 *   studio.alpha       (LoRA) alpha (scale = alpha / r)
 *   studio.targets     (LoRA) adapted linears of each attn2, comma-separated: "to_k,to_v"
 *   studio.dtype       (LoRA) "F32" | "F16"
 *   studio.layers, studio.gate_bias, studio.gate_temperature   (Perfusion, perfusion-file.ts)
 *
 * Also written: `format: "pt"` (what torch-side safetensors writers put there) and, for the PEFT
 * layout, diffusers' `lora_adapter_metadata` (JSON of the LoraConfig, keys prefixed `unet.`).
 */
export const TOOL = 'diffusion-studio';

export const META = {
  tool: 'studio.tool',
  kind: 'studio.kind',
  layout: 'studio.layout',
  baseModel: 'studio.base_model',
  steps: 'studio.steps',
  created: 'studio.created',
  token: 'studio.token',
  classWord: 'studio.class_word',
  vectors: 'studio.vectors',
  dim: 'studio.dim',
  rank: 'studio.rank',
  alpha: 'studio.alpha',
  targets: 'studio.targets',
  dtype: 'studio.dtype',
} as const;

/** diffusers' key for the PEFT LoraConfig (`LORA_ADAPTER_METADATA_KEY` in loaders/lora_base.py). */
export const DIFFUSERS_ADAPTER_METADATA = 'lora_adapter_metadata';

/** What the studio knows about a file's training, read back from its metadata. */
export interface TrainingInfo {
  baseModel?: string;
  steps?: number;
  /** ISO 8601. */
  created?: string;
}

/** Common keys; undefined values are left out. */
export function commonMetadata(kind: 'textual-inversion' | 'lora' | 'pplus' | 'perfusion', layout: string, info: TrainingInfo): Record<string, string> {
  const out: Record<string, string> = { format: 'pt', [META.tool]: TOOL, [META.kind]: kind, [META.layout]: layout };
  if (info.baseModel !== undefined) out[META.baseModel] = info.baseModel;
  if (info.steps !== undefined) out[META.steps] = String(info.steps);
  out[META.created] = info.created ?? new Date().toISOString();
  return out;
}

export function readTrainingInfo(meta: Readonly<Record<string, string>>): TrainingInfo {
  const steps = meta[META.steps] === undefined ? undefined : Number(meta[META.steps]);
  return {
    baseModel: meta[META.baseModel],
    steps: steps !== undefined && Number.isInteger(steps) && steps >= 0 ? steps : undefined,
    created: meta[META.created],
  };
}
