import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import type { StudioError } from '../common/errors';
import { readFileSync } from 'node:fs';
import { parseUNetConfig } from '../model/config';
import { crossAttentionPaths } from '../model/cross-attention';
import { engineWithTinyModel, jobContext } from '../test/engine';
import type { Engine } from './engine';
import type { ConceptWeights, RgbaImage } from './protocol';

const GEN = { steps: 2, width: 64, height: 64, seed: 3, guidanceScale: 5 };
const D = 32;
const LAYERS = 16;

function maxDiff(a: RgbaImage, b: RgbaImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

const ti = (token: string, vector: Float32Array): ConceptWeights => ({ token, classWord: 'toy', embedding: { nVectors: 1, dim: D, vectors: vector }, lora: null, loraStrength: 1 });

describe('Engine: P+ concepts at generation time', () => {
  let engine: Engine;
  let paths: string[];
  const pplus = (token: string, vectors: Float32Array): ConceptWeights => ({ token, classWord: 'toy', embedding: null, lora: null, loraStrength: 1, layerEmbeddings: { layers: paths, dim: D, vectors } });
  /** The same vector at every layer. */
  const repeated = (v: Float32Array) => Float32Array.from({ length: LAYERS * D }, (_, i) => v[i % D]);

  beforeAll(async () => {
    engine = await engineWithTinyModel();
    paths = crossAttentionPaths(parseUNetConfig(JSON.parse(readFileSync(new URL('../test/fixtures/tiny-sd/unet/config.json', import.meta.url), 'utf8'))));
  });

  it('the same vector at every layer draws what a TI token with that vector draws; vectors of its own per layer draw another image; nothing leaks', async () => {
    const v = randomNormal(D, 11, 0.5);
    const before = tf.memory().numTensors;
    const asPplus = await engine.generate({ ...GEN, prompt: 'a photo of <my-toy> on a table', concepts: [pplus('<my-toy>', repeated(v))] }, jobContext());
    expect(tf.memory().numTensors).toBe(before);
    const asTi = await engine.generate({ ...GEN, prompt: 'a photo of <my-toy> on a table', concepts: [ti('<my-toy>', v)] }, jobContext());
    expect(maxDiff(asPplus.images[0], asTi.images[0])).toBeLessThanOrEqual(1);
    const perLayer = await engine.generate({ ...GEN, prompt: 'a photo of <my-toy> on a table', concepts: [pplus('<my-toy>', randomNormal(LAYERS * D, 12, 0.5))] }, jobContext());
    expect(maxDiff(perLayer.images[0], asTi.images[0])).toBeGreaterThan(8);
  });

  it('works beside a TI concept in one prompt, each token its own vectors', async () => {
    const [a, b] = [randomNormal(D, 21, 0.5), randomNormal(D, 22, 0.5)];
    const prompt = 'a <my-toy> next to a <my-mug>';
    const mixed = await engine.generate({ ...GEN, prompt, concepts: [pplus('<my-toy>', repeated(a)), ti('<my-mug>', b)] }, jobContext());
    const bothTi = await engine.generate({ ...GEN, prompt, concepts: [ti('<my-toy>', a), ti('<my-mug>', b)] }, jobContext());
    expect(maxDiff(mixed.images[0], bothTi.images[0])).toBeLessThanOrEqual(1);
  });

  it("refuses per-layer vectors made for other layers than the model's", async () => {
    const concept = pplus('<my-toy>', randomNormal(LAYERS * D, 1));
    const shifted = { ...concept, layerEmbeddings: { ...concept.layerEmbeddings!, layers: [...paths.slice(1), paths[0]] } };
    const error = (await engine.generate({ ...GEN, prompt: 'a <my-toy>', concepts: [shifted] }, jobContext()).catch((e) => e)) as StudioError;
    expect(error.name).toBe('InvalidRequest');
    expect(error.message).toMatch(/other cross-attention layers/);
  });

  it("trains method 'pplus' through the engine: the run is a concept with a vector per layer, which exports, imports and draws", async () => {
    const RES = 64;
    const images = randomNormal(3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
    const result = await engine.train({ runId: 'run-pplus', options: { method: 'pplus', token: '<my-toy>', classWord: 'toy', steps: 2, resolution: RES }, images }, jobContext());
    expect(result).toMatchObject({ outcome: 'done', step: 2 });
    const concept = await engine.runConcept({ runId: 'run-pplus' });
    expect(concept).toMatchObject({ token: '<my-toy>', classWord: 'toy', embedding: null, lora: null, steps: 2 });
    expect(concept.layerEmbeddings!.layers).toEqual(paths);
    expect(concept.layerEmbeddings!.vectors).toHaveLength(LAYERS * D);
    const file = engine.exportConcept({ concept, what: { kind: 'layer-embeddings' } });
    const imported = await engine.importConcept({ file: new Blob([file.bytes as Uint8Array<ArrayBuffer>]), fileName: file.fileName });
    expect(imported.layerEmbeddings!.vectors).toEqual(concept.layerEmbeddings!.vectors);
    const weights = { token: concept.token, classWord: concept.classWord, embedding: null, lora: null, loraStrength: 1, layerEmbeddings: concept.layerEmbeddings };
    const before = tf.memory().numTensors;
    const drawn = await engine.generate({ ...GEN, prompt: 'a photo of a <my-toy>', concepts: [weights] }, jobContext());
    expect(drawn.images[0].width).toBe(64);
    expect(tf.memory().numTensors).toBe(before);
    await engine.deleteRun({ runId: 'run-pplus' });
  });
});
