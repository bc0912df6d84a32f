/**
 * Exported file sizes for an SD 1.5-shaped model, computed from its config without building
 * anything: what the UI shows before an export ("≈ 400 KB").
 */
import { SD15_UNET } from '../../model/sd15-configs';
import { parseUNetConfig, type UNetConfig } from '../../model/config';
import type { LoraTarget } from '../config';
import { crossAttentionPaths } from '../../model/cross-attention';
import { embeddingFileBytes, type EmbeddingLayout } from './embedding';
import { exportKohyaXti, type KohyaXtiDtype } from './kohya-xti';
import { exportLayerEmbeddings } from './layer-embeddings';
import { loraFileBytes } from './lora-export';
import type { LoraDtype, LoraLayout } from './lora-layout';

/** A fixed date so sizes do not depend on the clock (ISO strings all have the same length). */
const CREATED = '2026-01-01T00:00:00.000Z';

export function sd15UNetConfig(): UNetConfig {
  return parseUNetConfig(SD15_UNET);
}

export function sd15EmbeddingBytes(nVectors = 1, layout: EmbeddingLayout = 'single-key', token = '<concept>'): number {
  return embeddingFileBytes({ token, nVectors, dim: 768, baseModel: 'stable-diffusion-v1-5/stable-diffusion-v1-5', steps: 1000, created: CREATED, classWord: 'object' }, layout);
}

export function sd15LoraBytes(rank: number, targets: readonly LoraTarget[], layout: LoraLayout, dtype: LoraDtype): number {
  return loraFileBytes(sd15UNetConfig(), { rank, targets, layout, dtype, baseModel: 'stable-diffusion-v1-5/stable-diffusion-v1-5', steps: 1000, created: CREATED });
}

/** A P+ concept's file (one vector per cross-attention layer), written with zero vectors. */
export function sd15PplusBytes(layout: 'per-layer' | 'kohya-xti', dtype: KohyaXtiDtype = 'F32', token = '<concept>'): number {
  const unet = sd15UNetConfig();
  const layers = crossAttentionPaths(unet);
  const e = { token, classWord: 'object', layers, dim: 768, vectors: new Float32Array(layers.length * 768), baseModel: 'stable-diffusion-v1-5/stable-diffusion-v1-5', steps: 1000, created: CREATED };
  return layout === 'per-layer' ? exportLayerEmbeddings(e).length : exportKohyaXti(e, { unet }, dtype).length;
}
