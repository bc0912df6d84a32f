import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../../common/random';
import { parseUNetConfig } from '../../model/config';
import { crossAttentionPaths } from '../../model/cross-attention';
import { SD15_UNET } from '../../model/sd15-configs';
import { f16ToF32, f32ToF16 } from '../../model/safetensors-dtypes';
import { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { importPersonalization } from './import';
import { exportKohyaXti, KOHYA_XTI_NAMES, kohyaXtiPaths, ldmBlockNames, type KohyaXtiDtype } from './kohya-xti';
import { sd15PplusBytes } from './sizes';

const sd15 = parseUNetConfig(SD15_UNET);
const D = 768;
const paths = crossAttentionPaths(sd15);
const model = { unet: sd15, modelName: 'sd15' };
const target = { textDim: D, unet: sd15, modelName: 'sd15' };
const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
const concept = { token: '<my-toy>', classWord: 'toy', baseModel: 'stable-diffusion-v1-5/stable-diffusion-v1-5', steps: 500, layers: paths, dim: D, vectors: randomNormal(paths.length * D, 7) };
const xti = (dtype?: KohyaXtiDtype) => exportKohyaXti(concept, model, dtype);
const unetOf = (path: string) => parseUNetConfig(JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')));
const refusal = async (p: Promise<unknown>) => (await p.catch((e: Error) => e)) as Error;

describe("kohya's XTI layout", () => {
  it("names SD 1.5's attn2 layers by LDM block, in forward order", () => {
    expect(ldmBlockNames(sd15)).toEqual([...KOHYA_XTI_NAMES]);
    const byName = kohyaXtiPaths(sd15);
    expect(byName.get('IN01')).toBe('down_blocks.0.attentions.0.transformer_blocks.0.attn2');
    expect(byName.get('IN08')).toBe('down_blocks.2.attentions.1.transformer_blocks.0.attn2');
    expect(byName.get('MID')).toBe('mid_block.attentions.0.transformer_blocks.0.attn2');
    expect(byName.get('OUT03')).toBe('up_blocks.1.attentions.0.transformer_blocks.0.attn2');
    expect(byName.get('OUT11')).toBe('up_blocks.3.attentions.2.transformer_blocks.0.attn2');
  });

  it('exports 16 F32 [1, 768] tensors keyed IN01 … OUT11, and imports back bit for bit', async () => {
    const bytes = xti();
    const fileName = 'my-toy-xti.safetensors';
    const file = await SafetensorsFile.open(bytes, fileName);
    expect(file.names().sort()).toEqual([...KOHYA_XTI_NAMES].sort());
    for (const n of KOHYA_XTI_NAMES) expect(file.info(n)).toMatchObject({ dtype: 'F32', shape: [1, D] });
    const mid = paths.indexOf('mid_block.attentions.0.transformer_blocks.0.attn2');
    expect(bits(await file.readFloat32('MID'))).toEqual(bits(concept.vectors.subarray(mid * D, (mid + 1) * D)));
    expect(file.metadata).toMatchObject({ 'studio.kind': 'pplus', 'studio.layout': 'kohya-xti', 'studio.token': '<my-toy>' });

    const imported = await importPersonalization(bytes, fileName, target);
    expect(imported).toMatchObject({ kind: 'layer-embeddings', layout: 'kohya-xti', token: '<my-toy>', classWord: 'toy', layers: paths, dim: D });
    if (imported.kind !== 'layer-embeddings') throw new Error('not P+');
    expect(bits(imported.vectors)).toEqual(bits(concept.vectors));
  });

  it('exports F16 (kohya --save_precision fp16): the import is the vectors rounded to half', async () => {
    const bytes = xti('F16');
    const file = await SafetensorsFile.open(bytes, 'x.safetensors');
    expect(file.info('OUT05')).toMatchObject({ dtype: 'F16', shape: [1, D] });
    const imported = await importPersonalization(bytes, 'x.safetensors', target);
    if (imported.kind !== 'layer-embeddings') throw new Error('not P+');
    expect(bits(imported.vectors)).toEqual(bits(f16ToF32(f32ToF16(concept.vectors))));
    expect(bytes.length).toBeLessThan(xti().length);
  });

  it("reads a file as kohya writes it (no metadata, keys in its order): the token is the file name's", async () => {
    const rows = Object.fromEntries(KOHYA_XTI_NAMES.map((n, l) => [n, { dtype: 'F32' as const, shape: [1, D], data: Float32Array.from({ length: D }, (_, i) => l + i / D) }]));
    const imported = await importPersonalization(writeSafetensors(rows), 'shiny.safetensors', target);
    if (imported.kind !== 'layer-embeddings') throw new Error('not P+');
    expect(imported.token).toBe('<shiny>');
    const out03 = paths.indexOf('up_blocks.1.attentions.0.transformer_blocks.0.attn2');
    expect(imported.vectors[out03 * D]).toBe(7);
  });

  it('refuses a model whose cross-attention layers are not SD 1.x\'s 16 (shapes-sd has 11), on export and import', async () => {
    const shapes = unetOf('../../../public/models/shapes-sd/unet/config.json');
    const shapesConcept = { ...concept, layers: crossAttentionPaths(shapes), vectors: new Float32Array(11 * D) };
    expect(() => exportKohyaXti(shapesConcept, { unet: shapes, modelName: 'shapes-sd' })).toThrow(/shapes-sd does not fit: it has 11/);
    expect((await refusal(importPersonalization(xti(), 'x.safetensors', { ...target, unet: shapes, modelName: 'shapes-sd' }))).message).toMatch(/shapes-sd does not fit: it has 11/);
    const deep = parseUNetConfig({ ...SD15_UNET, transformer_layers_per_block: 2 });
    expect(() => kohyaXtiPaths(deep, 'deep')).toThrow(/deep does not fit: it has 32/);
    expect(() => exportKohyaXti({ ...concept, layers: [...paths].reverse().slice(1) }, model)).toThrow(/15 layer vectors are not on sd15's 16 cross-attention layers/);
    // tiny-sd is SD 1.x-shaped (16 layers, 32 wide): it fits
    expect(kohyaXtiPaths(unetOf('../../test/fixtures/tiny-sd/unet/config.json')).size).toBe(16);
  });

  it('refuses several vectors per layer, another width, and values that are not finite', async () => {
    const file = (shape: number[], at?: number) =>
      writeSafetensors(Object.fromEntries(KOHYA_XTI_NAMES.map((n) => [n, { dtype: 'F32' as const, shape, data: Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => (n === 'IN05' && i === at ? Infinity : 0)) }])));
    expect((await refusal(importPersonalization(file([2, D]), 'x.safetensors', target))).message).toMatch(/2 vectors per layer/);
    expect((await refusal(importPersonalization(file([1, 1024]), 'x.safetensors', target))).message).toMatch(/\[1,1024\]; \[vectors, 768\]/);
    expect((await refusal(importPersonalization(file([1, D], 3), 'x.safetensors', target))).message).toMatch(/Infinity at index 2307/);
  });

  it('sizes an SD 1.5 XTI file (1 vector per layer): the header and 16 × 768 values, nothing else', () => {
    for (const [dtype, width] of [['F32', 4], ['F16', 2]] as const) {
      const bytes = xti(dtype);
      const header = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
      expect(bytes.length).toBe(8 + header + 16 * D * width);
      expect(header).toBeLessThan(2048);
    }
    console.log(`P+ SD1.5 16×768: kohya XTI ${sd15PplusBytes('kohya-xti')} B (F32), ${sd15PplusBytes('kohya-xti', 'F16')} B (F16); per-layer ${sd15PplusBytes('per-layer')} B`);
  });
});
