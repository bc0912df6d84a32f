import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import type { StudioError } from '../common/errors';
import { engineWithTinyModel, jobContext } from '../test/engine';
import type { Engine } from './engine';
import { methodsF32 } from '../test/methods-golden';
import { matVec } from '../train/float64-matrix';
import type { ConceptWeights, RgbaImage } from './protocol';

const GEN = { steps: 2, width: 64, height: 64, seed: 3, guidanceScale: 5 };
const RES = 64;

function maxDiff(a: RgbaImage, b: RgbaImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

describe('Engine: Perfusion concepts', () => {
  let engine: Engine;
  let weights: ConceptWeights;

  beforeAll(async () => {
    engine = await engineWithTinyModel();
    const images = randomNormal(3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
    const result = await engine.train({ runId: 'run-perfusion', options: { method: 'perfusion', token: '<my-teddy>', classWord: 'teddy', steps: 2, resolution: RES, tiLearningRate: 0.05 }, images }, jobContext());
    expect(result).toMatchObject({ outcome: 'done', step: 2 });
    const concept = await engine.runConcept({ runId: 'run-perfusion' });
    expect(concept).toMatchObject({ token: '<my-teddy>', method: 'perfusion', lora: null, steps: 2, embedding: { nVectors: 1, dim: 32 } });
    expect(concept.perfusion).toMatchObject({ gateBias: 0.7, gateTemperature: 0.15 });
    expect(concept.perfusion!.layers).toHaveLength(16);
    weights = { token: concept.token, classWord: concept.classWord, embedding: concept.embedding, lora: null, loraStrength: 1, perfusion: concept.perfusion };
  });

  it('a trained run is a concept whose edit draws: the gate bias changes the image, nothing leaks', async () => {
    const prompt = 'a photo of a <my-teddy> on a table';
    const before = tf.memory().numTensors;
    const at = (gateBias: number) => engine.generate({ ...GEN, prompt, concepts: [{ ...weights, perfusion: { ...weights.perfusion!, gateBias } }] }, jobContext());
    const low = await at(0.4);
    expect(tf.memory().numTensors).toBe(before);
    const high = await at(1.0);
    const again = await at(0.4);
    expect(maxDiff(low.images[0], again.images[0])).toBe(0);
    expect(maxDiff(low.images[0], high.images[0])).toBeGreaterThan(0);
    const plain = await engine.generate({ ...GEN, prompt, concepts: [{ ...weights, perfusion: undefined }] }, jobContext());
    expect(maxDiff(plain.images[0], low.images[0])).toBeGreaterThan(0);
  });

  it('two Perfusion concepts in one prompt draw together; an edit for other layers is refused', async () => {
    // a second input, with its own C⁻¹ i* (the tiny model's C⁻¹ is the methods golden's)
    const cInv = Float64Array.from(methodsF32('perfusion.C_inv'));
    const iStar = weights.perfusion!.iStar.map((x, i) => x + (i % 3 === 0 ? 0.5 : -0.25));
    const other: ConceptWeights = { ...weights, token: '<my-mug>', perfusion: { ...weights.perfusion!, iStar, cInvIStar: Float32Array.from(matVec(cInv, iStar, iStar.length)) } };
    const before = tf.memory().numTensors;
    const both = await engine.generate({ ...GEN, prompt: 'a <my-teddy> next to a <my-mug>', concepts: [weights, other] }, jobContext());
    expect(both.images[0].width).toBe(64);
    expect(tf.memory().numTensors).toBe(before);
    const shifted = { ...weights, perfusion: { ...weights.perfusion!, layers: [...weights.perfusion!.layers.slice(1), weights.perfusion!.layers[0]] } };
    const error = (await engine.generate({ ...GEN, prompt: 'a <my-teddy>', concepts: [shifted] }, jobContext()).catch((e) => e)) as StudioError;
    expect(error.name).toBe('InvalidRequest');
    expect(error.message).toMatch(/other cross-attention layers/);
  });
});
