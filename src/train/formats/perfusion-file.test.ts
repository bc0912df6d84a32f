import { describe, expect, it } from 'vitest';
import { crossAttentionLayerList } from '../../model/cross-attention';
import { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { exportEmbedding } from './embedding';
import { exportLayerEmbeddings } from './layer-embeddings';
import { exportPerfusion, looksLikePerfusion } from './perfusion-file';
import { sd15UNetConfig } from './sizes';

const list = crossAttentionLayerList(sd15UNetConfig());
const widths = list.map((l) => l.channels);
const total = widths.reduce((a, b) => a + b, 0);
const open = (bytes: Uint8Array) => SafetensorsFile.open(bytes, 'f.safetensors');

describe('Perfusion file detection', () => {
  it('knows ours by its metadata or its i* key, and no TI, P+ or LoRA file', async () => {
    const ours = exportPerfusion({
      token: '<x>', embedding: new Float32Array(768),
      perfusion: { layers: list.map((l) => l.path), widths, keys: new Float32Array(total), values: new Float32Array(total), iStar: new Float32Array(768), cInvIStar: new Float32Array(768), gateBias: 0.7, gateTemperature: 0.15 },
    });
    expect(looksLikePerfusion(await open(ours))).toBe(true);
    const bare = await open(ours);
    const keysOnly = writeSafetensors(Object.fromEntries(await Promise.all(bare.names().map(async (n) => [n, { dtype: 'F32' as const, shape: bare.info(n).shape, data: await bare.readFloat32(n) }] as const))));
    expect(looksLikePerfusion(await open(keysOnly))).toBe(true);

    const ti = exportEmbedding({ token: '<x>', nVectors: 1, dim: 768, vectors: new Float32Array(768) }, 'single-key');
    const pplus = exportLayerEmbeddings({ token: '<x>', layers: list.map((l) => l.path), dim: 768, vectors: new Float32Array(16 * 768) });
    const lora = writeSafetensors({ 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight': { dtype: 'F32', shape: [1, 768], data: new Float32Array(768) } });
    for (const other of [ti, pplus, lora]) expect(looksLikePerfusion(await open(other))).toBe(false);
  });
});
