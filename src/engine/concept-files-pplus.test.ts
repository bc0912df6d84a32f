import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../common/random';
import { parseUNetConfig } from '../model/config';
import { crossAttentionPaths } from '../model/cross-attention';
import { SafetensorsFile } from '../model/safetensors-reader';
import { writeSafetensors } from '../model/safetensors-writer';
import { CHECKPOINT_VERSION, type Checkpoint } from '../train/checkpoint';
import { resolveTrainerConfig } from '../train/config';
import { importPersonalization } from '../train/formats/import';
import { conceptFromCheckpoint, conceptFromImport, exportConcept } from './concept-files';

const unet = parseUNetConfig(JSON.parse(readFileSync(new URL('../test/fixtures/tiny-sd/unet/config.json', import.meta.url), 'utf8')));
const D = 32;
const paths = crossAttentionPaths(unet);
const target = { textDim: D, unet, modelName: 'tiny-sd' };
const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

const concept = {
  token: '<my-toy>',
  classWord: 'toy',
  baseModel: 'tiny-sd',
  steps: 500,
  created: Date.parse('2026-01-02T03:04:05Z'),
  embedding: null,
  lora: null,
  layerEmbeddings: { layers: paths, dim: D, vectors: randomNormal(paths.length * D, 4) },
};

describe('P+ concept files (our per-layer layout)', () => {
  it('export one [1, dim] row per cross-attention layer keyed by its module path, and import back bit for bit', async () => {
    const { fileName, bytes } = exportConcept(concept, { kind: 'layer-embeddings' });
    expect(fileName).toBe('my-toy-pplus.safetensors');
    const file = await SafetensorsFile.open(bytes, fileName);
    expect(file.names().sort()).toEqual([...paths].sort());
    expect(file.info(paths[6])).toMatchObject({ dtype: 'F32', shape: [1, D] });
    expect(Array.from(await file.readFloat32(paths[6]))).toEqual(Array.from(concept.layerEmbeddings.vectors.subarray(6 * D, 7 * D)));
    expect(file.metadata).toMatchObject({ 'studio.kind': 'pplus', 'studio.layout': 'per-layer', 'studio.token': '<my-toy>', 'studio.class_word': 'toy', 'studio.vectors': '16', 'studio.dim': '32' });

    const imported = await importPersonalization(bytes, fileName, target);
    const back = conceptFromImport(imported, fileName);
    expect(back).toMatchObject({ token: '<my-toy>', classWord: 'toy', embedding: null, lora: null, steps: 500, baseModel: 'tiny-sd', created: concept.created });
    expect(back.layerEmbeddings!.layers).toEqual(paths);
    expect(bits(back.layerEmbeddings!.vectors)).toEqual(bits(concept.layerEmbeddings.vectors));
    expect(() => exportConcept(concept, { kind: 'embedding', layout: 'single-key' })).toThrow(/no token embedding/);
  });

  it("export in kohya's XTI layout (names from the model's UNet) and import back bit for bit; without the model it is refused", async () => {
    const { fileName, bytes } = exportConcept(concept, { kind: 'layer-embeddings', layout: 'kohya-xti' }, { unet, modelName: 'tiny-sd' });
    expect(fileName).toBe('my-toy-xti.safetensors');
    const file = await SafetensorsFile.open(bytes, fileName);
    expect(file.names()).toContain('OUT11');
    expect(file.info('IN01')).toMatchObject({ dtype: 'F32', shape: [1, D] });
    const back = conceptFromImport(await importPersonalization(bytes, fileName, target), fileName);
    expect(back).toMatchObject({ token: '<my-toy>', classWord: 'toy', steps: 500, baseModel: 'tiny-sd' });
    expect(back.layerEmbeddings!.layers).toEqual(paths);
    expect(bits(back.layerEmbeddings!.vectors)).toEqual(bits(concept.layerEmbeddings.vectors));
    expect(() => exportConcept(concept, { kind: 'layer-embeddings', layout: 'kohya-xti' })).toThrow(/load the model <my-toy> was trained on/);
  });

  it('refuse a file that lacks one of the model\'s layers, has a vector of another width, or a value that is not finite', async () => {
    const row = (v: Float32Array) => ({ dtype: 'F32' as const, shape: [1, v.length], data: v });
    const meta = { 'studio.kind': 'pplus', 'studio.token': '<x>' };
    const file = (rows: Record<string, Float32Array>) => writeSafetensors(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, row(v)])), meta);
    const full = Object.fromEntries(paths.map((p) => [p, new Float32Array(D)]));
    const refusal = async (bytes: Uint8Array) => (await importPersonalization(bytes, 'x.safetensors', target).catch((e: Error) => e)) as Error;
    const { [paths[3]]: _, ...missing } = full;
    expect((await refusal(file(missing))).message).toMatch(/lacks 1 of tiny-sd's 16 cross-attention layers \(e.g. 'down_blocks.1.attentions.1.transformer_blocks.0.attn2'\)/);
    expect((await refusal(file({ ...full, [paths[0]]: new Float32Array(D + 1) }))).message).toMatch(/one vector of 32/);
    expect((await refusal(file({ ...full, [paths[2]]: Float32Array.from({ length: D }, (_, i) => (i === 5 ? NaN : 0)) }))).message).toMatch(/NaN at index 69/);
  });

  it("a P+ run's checkpoint becomes a concept with per-layer vectors (not a 16-vector TI embedding), given the model's layers", () => {
    const vectors = randomNormal(16 * D, 9);
    const config = resolveTrainerConfig({ method: 'pplus', token: '<my-toy>', classWord: 'toy', steps: 2, resolution: 64 });
    const checkpoint: Checkpoint = {
      version: CHECKPOINT_VERSION, model: 'tiny', modelName: 'tiny-sd', config, step: 2, rngState: 1, smoothedLoss: 1, created: 5,
      tensors: [{ key: 'ti.vectors', shape: [16, D], data: vectors }], moments: [{ key: 'ti.vectors', shape: [16 * D, 2], data: new Float32Array(16 * D * 2) }],
    };
    const c = conceptFromCheckpoint(checkpoint, 'run', paths);
    expect(c.embedding).toBeNull();
    expect(c.layerEmbeddings).toEqual({ layers: paths, dim: D, vectors });
    expect(() => conceptFromCheckpoint(checkpoint, 'run')).toThrow(/need the model it was trained on/);
  });
});
