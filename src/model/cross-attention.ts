/**
 * The UNet's cross-attention (`attn2`) layers in the order `unetForward` runs them: down blocks,
 * the mid block (when the model has one), up blocks; inside a block its attentions in order, and
 * inside an attention its transformer blocks. This forward order is the layer index `l` that
 * per-layer conditioning (P+) uses; note that diffusers' `named_modules()` lists `mid_block`
 * last, so the order cannot be taken from a module list. 16 layers for SD 1.x.
 */
import type { UNetConfig } from './config';

export interface CrossAttentionLayer {
  /** Forward-order index. */
  index: number;
  /** Module path, e.g. `down_blocks.0.attentions.0.transformer_blocks.0.attn2`. */
  path: string;
  /** The attention's channel count (its query width). */
  channels: number;
}

/** Every attn2 of a UNet config in forward order. */
export function crossAttentionLayerList(c: UNetConfig): CrossAttentionLayer[] {
  const out: CrossAttentionLayer[] = [];
  const boc = c.blockOutChannels;
  const n = boc.length;
  const add = (block: string, attentions: number, layers: number, channels: number) => {
    for (let j = 0; j < attentions; j++) {
      for (let t = 0; t < layers; t++) out.push({ index: out.length, path: `${block}.attentions.${j}.transformer_blocks.${t}.attn2`, channels });
    }
  };
  for (let i = 0; i < n; i++) if (c.downBlockTypes[i] === 'CrossAttnDownBlock2D') add(`down_blocks.${i}`, c.layersPerBlock[i], c.transformerLayersPerBlock[i], boc[i]);
  if (c.midBlock) add('mid_block', 1, c.transformerLayersPerBlock[n - 1], boc[n - 1]);
  for (let i = 0; i < n; i++) {
    const r = n - 1 - i; // up block i mirrors down block n − 1 − i
    if (c.upBlockTypes[i] === 'CrossAttnUpBlock2D') add(`up_blocks.${i}`, c.layersPerBlock[r] + 1, c.transformerLayersPerBlock[r], boc[r]);
  }
  return out;
}

/** The attn2 module paths in forward order. */
export function crossAttentionPaths(c: UNetConfig): string[] {
  return crossAttentionLayerList(c).map((l) => l.path);
}
