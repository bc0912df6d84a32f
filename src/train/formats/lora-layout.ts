/**
 * LoRA files in the namings the ecosystem reads and writes. A layer adapts one module (a linear
 * or a convolution of the UNet or the text encoder; lora-modules.ts) with down [r, in] (a conv's
 * [r, in, kh, kw]) and up [out, r]; its output adds (alpha / r) · up · down · x.
 *  - 'kohya' (sd-scripts; AUTOMATIC1111, ComfyUI, diffusers read it): `lora_unet_<path, '.' → '_'>`
 *    and `lora_te_text_model_<path>` with `.lora_down.weight`, `.lora_up.weight` (a conv's up
 *    [out, r, 1, 1]) and `.alpha` (a scalar), each layer its own rank and alpha.
 *  - 'peft' (diffusers `save_lora_weights` today): `unet.<path>.lora_A.weight` (down),
 *    `.lora_B.weight` (up), `text_encoder.text_model.<path>…`; r, lora_alpha, rank_pattern,
 *    alpha_pattern and use_rslora per component in `lora_adapter_metadata`.
 * Read only: diffusers before PEFT (`….lora.down.weight`, `….processor.to_k_lora.down.weight`,
 * `….q_proj.lora_linear_layer.down.weight`), the studio's training keys among them.
 * This file: the layouts and the layer data both directions share. Pure data: no tensors.
 */
import { isConvShape, type LoraComponent } from './lora-modules';

export type LoraLayout = 'kohya' | 'peft';
export type LoraImportLayout = LoraLayout | 'diffusers-old';
export type LoraDtype = 'F32' | 'F16';

/** One adapted module, values row-major. */
export interface LoraLayerData {
  down: Float32Array;
  up: Float32Array;
  /** [r, in] (a linear) or [r, in, kh, kw] (a convolution) */
  downShape: number[];
  /** [out, r] */
  upShape: [number, number];
}

/** A layer with the module it adapts and its alpha: scale = alpha / r. */
export interface LoraModuleLayer extends LoraLayerData {
  component: LoraComponent;
  /** The module's weight key without `.weight` in its component's model (lora-modules.ts). */
  path: string;
  alpha: number;
}

export function layerRank(l: Pick<LoraLayerData, 'downShape'>): number {
  return l.downShape[0];
}

/** The shape a file stores the up weight in: a conv's is a 1×1 conv [out, r, 1, 1]. */
export function storedUpShape(l: Pick<LoraLayerData, 'downShape' | 'upShape'>): number[] {
  return isConvShape(l.downShape) ? [...l.upShape, 1, 1] : [...l.upShape];
}

/**
 * The layer's ΔW at strength 1: (alpha / r) · up · down, shaped as the module's weight
 * ([out, in] or [out, in, kh, kw]), accumulated in float64.
 */
export function effectiveDelta(l: Pick<LoraModuleLayer, 'down' | 'up' | 'downShape' | 'upShape' | 'alpha'>): { shape: number[]; data: Float32Array } {
  const [r, ...inner] = l.downShape;
  const [out] = l.upShape;
  const cols = inner.reduce((a, b) => a * b, 1);
  const scale = l.alpha / r;
  const data = new Float32Array(out * cols);
  const row = new Float64Array(cols);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const u = l.up[o * r + k];
      if (u === 0) continue;
      for (let c = 0; c < cols; c++) row[c] += u * l.down[k * cols + c];
    }
    for (let c = 0; c < cols; c++) data[o * cols + c] = row[c] * scale;
  }
  return { shape: [out, ...inner], data };
}

/** The value that occurs most often (the first of ties), as diffusers picks a file's r and alpha. */
export function mostCommon<T>(values: readonly T[]): T {
  const counts = new Map<T, number>();
  let best = values[0];
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (n > (counts.get(best) ?? 0)) best = v;
  }
  return best;
}
