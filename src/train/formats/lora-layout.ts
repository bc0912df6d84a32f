/**
 * UNet LoRA files in the namings the ecosystem reads and writes. A layer adapts the linear at a
 * diffusers module path (`down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k`) with
 * down [r, in] and up [out, r]; the output adds (alpha / r) · up · down · x.
 *  - 'kohya' (sd-scripts; AUTOMATIC1111, ComfyUI, diffusers read it):
 *    `lora_unet_<path, '.' → '_'>.lora_down.weight`, `.lora_up.weight`, `.alpha` (F32 scalar []).
 *  - 'peft' (diffusers `save_lora_weights` today): `unet.<path>.lora_A.weight` (down),
 *    `unet.<path>.lora_B.weight` (up); alpha in `lora_adapter_metadata` (`unet.lora_alpha`).
 *  - 'diffusers-old' (import only; the studio's own training keys, `Lora.keys()`):
 *    `unet.<path>.lora.down.weight`, `.lora.up.weight`; no alpha (scale 1).
 * This file: the layouts, the layer data both directions share, and which modules may be adapted.
 * Writing is in lora-export.ts, reading in lora-import.ts. Pure data: no tensors.
 */
import type { UNetConfig } from '../../model/config';
import { LORA_TARGETS } from '../config';
import { crossAttentionLayers } from '../lora';

export type LoraLayout = 'kohya' | 'peft';
export type LoraImportLayout = LoraLayout | 'diffusers-old';
export type LoraDtype = 'F32' | 'F16';

/** One adapted linear, values row-major. */
export interface LoraLayerData {
  down: Float32Array;
  up: Float32Array;
  /** [r, in] (a linear) or [r, in, kh, kw] (a convolution) */
  downShape: number[];
  /** [out, r] */
  upShape: [number, number];
}

export const KOHYA_UNET_PREFIX = 'lora_unet_';

/** `down_blocks.0.….attn2.to_out.0` → `lora_unet_down_blocks_0_…_attn2_to_out_0`. */
export function kohyaModuleName(modulePath: string): string {
  return KOHYA_UNET_PREFIX + modulePath.replace(/\./g, '_');
}

/**
 * Every linear of this UNet a LoRA may adapt, with its [out, in]: in each transformer block the
 * attention projections of attn1 and attn2 and the feed-forward (GEGLU in, out), and proj_in /
 * proj_out where they are linear (SD 2.x). Training adapts attn2 only; imports may bring the rest.
 */
export function adaptableLinears(config: UNetConfig): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  const transformers = new Set<string>();
  for (const { prefix, channels: C } of crossAttentionLayers(config)) {
    const block = prefix.slice(0, -'.attn2'.length);
    for (const target of LORA_TARGETS) {
      const kv = target === 'to_k' || target === 'to_v';
      out.set(`${prefix}.${target}`, [C, kv ? config.crossAttentionDim : C]);
      out.set(`${block}.attn1.${target}`, [C, C]);
    }
    out.set(`${block}.ff.net.0.proj`, [8 * C, C]);
    out.set(`${block}.ff.net.2`, [C, 4 * C]);
    const transformer = block.replace(/\.transformer_blocks\.\d+$/, '');
    if (config.useLinearProjection && !transformers.has(transformer)) {
      transformers.add(transformer);
      out.set(`${transformer}.proj_in`, [C, C]);
      out.set(`${transformer}.proj_out`, [C, C]);
    }
  }
  return out;
}
