import { describe, expect, it } from 'vitest';
import * as tf from '../../gpu/tf';
import { f32ToF16 } from '../../model/safetensors-dtypes';
import { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { randomNormal } from '../../common/random';
import { embeddingFileBytes, exportEmbedding, type EmbeddingExport } from './embedding';
import { importPersonalization, type ImportTarget } from './import';
import { sd15EmbeddingBytes, sd15UNetConfig } from './sizes';
import { refusedImport } from '../../test/import-refusals';

const TARGET: ImportTarget = { textDim: 768, unet: sd15UNetConfig() };

function concept(nVectors: number, dim = 768): EmbeddingExport {
  return {
    token: '<my-cat>',
    classWord: 'cat',
    vectors: randomNormal(nVectors * dim, 7),
    nVectors,
    dim,
    baseModel: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
    steps: 500,
    created: '2026-11-24T12:00:00.000Z',
  };
}

const refused = (bytes: Uint8Array, fileName: string, target = TARGET) => refusedImport(bytes, fileName, target);

describe('embedding files', () => {
  it('single-key: { "<token>": F32 [n, dim] } with studio metadata, round trip', async () => {
    const e = concept(3);
    const bytes = exportEmbedding(e, 'single-key');
    const file = await SafetensorsFile.open(bytes, 'my-cat.safetensors');
    expect(file.names()).toEqual(['<my-cat>']);
    expect(file.info('<my-cat>')).toMatchObject({ dtype: 'F32', shape: [3, 768] });
    expect(file.metadata).toMatchObject({
      'studio.tool': 'diffusion-studio',
      'studio.kind': 'textual-inversion',
      'studio.layout': 'single-key',
      'studio.token': '<my-cat>',
      'studio.class_word': 'cat',
      'studio.base_model': 'stable-diffusion-v1-5/stable-diffusion-v1-5',
      'studio.steps': '500',
      'studio.created': '2026-11-24T12:00:00.000Z',
      'studio.vectors': '3',
      'studio.dim': '768',
    });

    const before = tf.memory().numTensors;
    const back = await importPersonalization(bytes, 'whatever.safetensors', TARGET);
    expect(tf.memory().numTensors).toBe(before);
    expect(back).toMatchObject({ kind: 'embedding', layout: 'single-key', token: '<my-cat>', nVectors: 3, dim: 768, classWord: 'cat' });
    expect(back.kind === 'embedding' && back.info).toEqual({ baseModel: e.baseModel, steps: 500, created: e.created });
    expect(back.kind === 'embedding' && back.vectors).toEqual(e.vectors);
  });

  it('a token named like an Object.prototype member exports whole, at its planned size, and imports back', async () => {
    for (const token of ['__proto__', 'constructor']) {
      const e = { ...concept(1), token };
      const bytes = exportEmbedding(e, 'single-key');
      expect(embeddingFileBytes(e, 'single-key')).toBe(bytes.byteLength);
      expect((await SafetensorsFile.open(bytes, 'proto.safetensors')).names()).toEqual([token]);
      expect(await importPersonalization(bytes, 'proto.safetensors', TARGET)).toMatchObject({ kind: 'embedding', token, nVectors: 1, dim: 768 });
    }
  });

  it("emb_params (kohya): token from metadata, else the file name", async () => {
    const e = concept(2);
    const bytes = exportEmbedding(e, 'emb_params');
    const file = await SafetensorsFile.open(bytes, 'x');
    expect(file.names()).toEqual(['emb_params']);
    const back = await importPersonalization(bytes, 'x.safetensors', TARGET);
    expect(back).toMatchObject({ kind: 'embedding', layout: 'emb_params', token: '<my-cat>', nVectors: 2, dim: 768 });
    expect(back.kind === 'embedding' && back.vectors).toEqual(e.vectors);

    // A kohya file has no studio metadata: the token is the file name (as A1111 and ComfyUI do).
    const kohya = writeSafetensors({ emb_params: { dtype: 'F32', shape: [2, 768], data: e.vectors } });
    expect(await importPersonalization(kohya, 'dir/sks-dog.safetensors', TARGET)).toMatchObject({ token: 'sks-dog', nVectors: 2 });
  });

  it('reads F16 vectors and a bare [dim] vector', async () => {
    const v = randomNormal(768, 3);
    const f16 = writeSafetensors({ '<x>': { dtype: 'F16', shape: [1, 768], data: f32ToF16(v) } });
    const back = await importPersonalization(f16, 'x.safetensors', TARGET);
    expect(back.kind === 'embedding' && Math.max(...back.vectors.map((x, i) => Math.abs(x - v[i])))).toBeLessThan(2e-3);
    const bare = writeSafetensors({ '<y>': { dtype: 'F32', shape: [768], data: v } });
    expect(await importPersonalization(bare, 'y.safetensors', TARGET)).toMatchObject({ token: '<y>', nVectors: 1, dim: 768 });
  });

  it('refuses a 1024-wide (SD 2.x) embedding for a 768-wide model', async () => {
    const bytes = exportEmbedding(concept(1, 1024));
    const error = await refused(bytes, 'sd2.safetensors');
    expect(error.reason).toBe('dim-mismatch');
    expect(error.message).toMatch(/1024 wide \(SD 2\.x, made for stable-diffusion-v1-5\/stable-diffusion-v1-5\).*this model's text encoder is 768 wide \(SD 1\.x\)/);
  });

  it('names the loaded model in a width refusal, and a width no family has as a model the file does not name', async () => {
    const tiny: ImportTarget = { ...TARGET, textDim: 32, modelName: 'shapes-sd' };
    const sd15 = exportEmbedding({ ...concept(1), baseModel: undefined });
    expect((await refused(sd15, 'sd15-style.safetensors', tiny)).message).toBe(
      "sd15-style.safetensors: the embedding's vectors are 768 wide (SD 1.x), but shapes-sd's text encoder is 32 wide. Use an embedding trained for this base model.",
    );
    const odd = exportEmbedding({ ...concept(1, 320), baseModel: undefined });
    expect((await refused(odd, 'odd.safetensors', tiny)).message).toMatch(/320 wide \(a model the file does not name\), but shapes-sd's text encoder is 32 wide\./);
  });

  it('refuses NaN and infinite vectors (F32 and F16 bit patterns), naming the tensor', async () => {
    const nan = writeSafetensors({ '<bad>': { dtype: 'F32', shape: [1, 768], data: new Float32Array(768).fill(NaN) } });
    expect((await refused(nan, 'nan.safetensors')).message).toMatch(/'<bad>' holds NaN at index 0/);
    const inf = new Uint16Array(768).fill(0x3c00);
    inf[5] = 0xfc00; // −Inf in half precision
    const half = writeSafetensors({ emb_params: { dtype: 'F16', shape: [1, 768], data: inf } });
    expect((await refused(half, 'inf.safetensors')).message).toMatch(/'emb_params' holds -Infinity at index 5/);
  });

  it('takes up to 75 vectors (what a prompt holds) and refuses 76, with the count', async () => {
    const most = await importPersonalization(exportEmbedding(concept(75)), 'most.safetensors', TARGET);
    expect(most.kind === 'embedding' && most.nVectors).toBe(75);
    const error = await refused(exportEmbedding(concept(76)), 'long.safetensors');
    expect([error.name, error.reason]).toEqual(['ImportRefused', 'invalid']);
    expect(error.message).toBe('long.safetensors: the embedding has 76 vectors; a prompt holds at most 75, so it could never be used.');
  });

  it('refuses an SDXL embedding (clip_l + clip_g)', async () => {
    const bytes = writeSafetensors({
      clip_l: { dtype: 'F32', shape: [1, 768], data: new Float32Array(768) },
      clip_g: { dtype: 'F32', shape: [1, 1280], data: new Float32Array(1280) },
    });
    const error = await refused(bytes, 'xl.safetensors');
    expect(error.reason).toBe('dim-mismatch');
    expect(error.message).toMatch(/SDXL embedding/);
  });

  it('size: one 768-wide vector is a few KB, and the computed size is exact', () => {
    const e = concept(1);
    for (const layout of ['single-key', 'emb_params'] as const) {
      expect(embeddingFileBytes(e, layout)).toBe(exportEmbedding(e, layout).byteLength);
    }
    const bytes = sd15EmbeddingBytes(1);
    expect(bytes).toBeGreaterThan(768 * 4);
    expect(bytes).toBeLessThan(8 * 1024);
    console.log(`TI SD1.5 1×768 F32: ${bytes} B (single-key), ${sd15EmbeddingBytes(1, 'emb_params')} B (emb_params)`);
  });
});
