import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../common/random';
import { parseUNetConfig } from '../model/config';
import { crossAttentionLayerList } from '../model/cross-attention';
import { SafetensorsFile } from '../model/safetensors-reader';
import { writeSafetensors } from '../model/safetensors-writer';
import { f32ToF16 } from '../model/safetensors-dtypes';
import { importPersonalization } from '../train/formats/import';
import { sd15UNetConfig } from '../train/formats/sizes';
import { conceptFromImport, exportConcept } from './concept-files';

const unet = parseUNetConfig(JSON.parse(readFileSync(new URL('../test/fixtures/tiny-sd/unet/config.json', import.meta.url), 'utf8')));
const D = 32;
const target = { textDim: D, unet, modelName: 'tiny-sd' };
const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

function perfusionConcept(config = unet, dim = D) {
  const list = crossAttentionLayerList(config);
  const widths = list.map((l) => l.channels);
  const total = widths.reduce((a, b) => a + b, 0);
  return {
    token: '<my-toy>', classWord: 'toy', baseModel: 'tiny-sd', steps: 400, created: Date.parse('2026-01-02T03:04:05Z'), lora: null,
    embedding: { nVectors: 1, dim, vectors: randomNormal(dim, 1) },
    perfusion: { layers: list.map((l) => l.path), widths, keys: randomNormal(total, 2), values: randomNormal(total, 3), iStar: randomNormal(dim, 4), cInvIStar: randomNormal(dim, 5), gateBias: 0.55, gateTemperature: 0.2 },
  };
}

const refusal = async (bytes: Uint8Array) => (await importPersonalization(bytes, 'x.safetensors', target).catch((e: Error) => e)) as Error;

describe('Perfusion concept files (our key-locked layout)', () => {
  it('export a key and a value per cross-attention layer, i*, C⁻¹ i* and the token vector, and import back bit for bit', async () => {
    const concept = perfusionConcept();
    const { fileName, bytes } = exportConcept(concept, { kind: 'perfusion' });
    expect(fileName).toBe('my-toy-perfusion.safetensors');
    const file = await SafetensorsFile.open(bytes, fileName);
    const l3 = concept.perfusion.layers[3];
    expect(file.names().length).toBe(2 * 16 + 3);
    expect(file.info(`${l3}.key`)).toMatchObject({ dtype: 'F32', shape: [concept.perfusion.widths[3]] });
    expect(file.info('perfusion.embedding')).toMatchObject({ dtype: 'F32', shape: [1, D] });
    expect(file.metadata).toMatchObject({ 'studio.kind': 'perfusion', 'studio.layout': 'key-locked', 'studio.token': '<my-toy>', 'studio.class_word': 'toy', 'studio.layers': '16', 'studio.dim': '32', 'studio.gate_bias': '0.55', 'studio.gate_temperature': '0.2' });

    const back = conceptFromImport(await importPersonalization(bytes, fileName, target), fileName);
    expect(back).toMatchObject({ token: '<my-toy>', classWord: 'toy', method: 'perfusion', lora: null, steps: 400, baseModel: 'tiny-sd', created: concept.created, embedding: { nVectors: 1, dim: D } });
    expect(back.layerEmbeddings).toBeUndefined();
    expect(bits(back.embedding!.vectors)).toEqual(bits(concept.embedding.vectors));
    const p = back.perfusion!;
    expect(p).toMatchObject({ layers: concept.perfusion.layers, widths: concept.perfusion.widths, gateBias: 0.55, gateTemperature: 0.2 });
    for (const k of ['keys', 'values', 'iStar', 'cInvIStar'] as const) expect(bits(p[k])).toEqual(bits(concept.perfusion[k]));
    // the file again, byte for byte
    expect(exportConcept(back, { kind: 'perfusion' }).bytes).toEqual(bytes);
  });

  it("the TI part is a single-key embedding file other tools read, imported back as a plain embedding", async () => {
    const concept = perfusionConcept();
    const { fileName, bytes } = exportConcept(concept, { kind: 'embedding', layout: 'single-key' });
    expect(fileName).toBe('my-toy.safetensors');
    const back = conceptFromImport(await importPersonalization(bytes, fileName, target), fileName);
    expect(back.perfusion).toBeUndefined();
    expect(bits(back.embedding!.vectors)).toEqual(bits(concept.embedding.vectors));
    expect(() => exportConcept({ ...concept, perfusion: undefined }, { kind: 'perfusion' })).toThrow(/not a Perfusion concept/);
  });

  it('read F16 files too', async () => {
    const concept = perfusionConcept();
    const file = await SafetensorsFile.open(exportConcept(concept, { kind: 'perfusion' }).bytes, 'f32.safetensors');
    const tensors = Object.fromEntries(await Promise.all(file.names().map(async (n) => [n, { dtype: 'F16' as const, shape: file.info(n).shape, data: f32ToF16(await file.readFloat32(n)) }] as const)));
    const imported = await importPersonalization(writeSafetensors(tensors, file.metadata), 'f16.safetensors', target);
    expect(imported.kind).toBe('perfusion');
    if (imported.kind !== 'perfusion') return;
    expect(imported.perfusion.values[7]).toBeCloseTo(concept.perfusion.values[7], 2);
  });

  it("refuse a file that lacks a layer, has one of another width, a value that is not finite, another model's layers, or an out-of-range gate", async () => {
    const concept = perfusionConcept();
    const file = await SafetensorsFile.open(exportConcept(concept, { kind: 'perfusion' }).bytes, 'p.safetensors');
    const rows = Object.fromEntries(await Promise.all(file.names().map(async (n) => [n, await file.readFloat32(n)] as const)));
    const write = (r: Record<string, Float32Array>, meta = file.metadata) => writeSafetensors(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { dtype: 'F32' as const, shape: [v.length], data: v }])), meta);
    const l3 = concept.perfusion.layers[3];
    const { [`${l3}.value`]: _, ...missing } = rows;
    expect((await refusal(write(missing))).message).toMatch(new RegExp(`x.safetensors is a Perfusion concept that lacks 1 of the 35 tensors tiny-sd needs \\(e.g. '${l3}.value'\\)`));
    expect((await refusal(write({ ...rows, [`${l3}.key`]: new Float32Array(7) }))).message).toMatch(new RegExp(`x.safetensors: '${l3}.key' is \\[7\\]; the layer \\(in tiny-sd\\) is ${concept.perfusion.widths[3]} wide`));
    expect((await refusal(write({ ...rows, 'perfusion.i_star': new Float32Array(D + 1) }))).message).toMatch(/'perfusion.i_star' is \[33\]; tiny-sd's text encoder is 32 wide/);
    expect((await refusal(write({ ...rows, 'perfusion.c_inv_i_star': Float32Array.from({ length: D }, (_, i) => (i === 4 ? NaN : 0)) }))).message).toMatch(/'perfusion.c_inv_i_star' holds NaN at index 4/);
    expect((await refusal(write(rows, { ...file.metadata, 'studio.gate_bias': '2' }))).message).toMatch(/studio.gate_bias "2" is not a number in \[0,1.5\]/);
    // an SD 1.5 concept on tiny-sd: the same attn2 paths, at SD 1.5's widths
    const sd15 = perfusionConcept(sd15UNetConfig(), 768);
    expect((await refusal(exportConcept(sd15, { kind: 'perfusion' }).bytes)).message).toMatch(/'down_blocks.0.attentions.0.transformer_blocks.0.attn2.key' is \[320\]; the layer \(in tiny-sd\) is 32 wide/);
    // a model with other layers: paths it lacks and paths it has no place for
    const renamed = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k.replace('up_blocks.3.attentions.2', 'up_blocks.3.attentions.9'), v]));
    expect((await refusal(write(renamed))).message).toMatch(/lacks 2 of the 35 tensors tiny-sd needs \(e.g. 'up_blocks.3.attentions.2.transformer_blocks.0.attn2.key'\) and has tensors tiny-sd has no place for \(e.g. 'up_blocks.3.attentions.9/);
  });

  it('SD 1.5 sizes: F32 as written, and what F16 would be', async () => {
    const sd15 = perfusionConcept(sd15UNetConfig(), 768);
    const f32 = exportConcept(sd15, { kind: 'perfusion' }).bytes;
    const floats = sd15.perfusion.keys.length * 2 + 768 * 3;
    const file = await SafetensorsFile.open(f32, 'sd15.safetensors');
    const tensors = Object.fromEntries(await Promise.all(file.names().map(async (n) => [n, { dtype: 'F16' as const, shape: file.info(n).shape, data: f32ToF16(await file.readFloat32(n)) }] as const)));
    const f16 = writeSafetensors(tensors, file.metadata);
    expect(sd15.perfusion.widths.reduce((a, b) => a + b, 0)).toBe(12_480); // 16 layers: 320·2 + 640·2 + 1280·2 + 1280 (mid) + 1280·3 + 640·3 + 320·3
    // half the payload, give or take the header's 8-byte padding
    expect(Math.abs(f32.byteLength - f16.byteLength - floats * 2)).toBeLessThanOrEqual(8);
    console.log(`SD 1.5 Perfusion file: F32 ${f32.byteLength} bytes, F16 ${f16.byteLength} bytes (${floats} values)`);
  });
});
