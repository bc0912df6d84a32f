import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { BUILTIN_MODEL_CARD, BUILTIN_MODEL_ID } from '../model/sources/builtin';
import { engineWithBuiltinModel, jobContext } from '../test/engine';
import type { Engine } from './engine';

describe('the built-in model', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await engineWithBuiltinModel(false);
  });
  afterAll(() => engine.releaseDevice());

  it('loads with its card (64 px, DDIM 20, guidance 5, example prompts) and draws one of them', async () => {
    const info = await engine.loadModel({ model: { kind: 'builtin' } }, jobContext());
    expect(info).toMatchObject({ id: BUILTIN_MODEL_ID, imageSize: 64, card: BUILTIN_MODEL_CARD });
    expect(info.card.about).toMatch(/coloured shapes/);
    const before = tf.memory().numTensors;
    const { generation } = info.card;
    const result = await engine.generate(
      { prompt: info.card.examplePrompts[0], steps: 3, guidanceScale: generation.guidanceScale, sampler: generation.sampler, width: generation.size, height: generation.size, seed: 1 },
      jobContext(),
    );
    expect(result.images[0]).toMatchObject({ width: 64, height: 64 });
    expect(new Set(result.images[0].data).size).toBeGreaterThan(10);
    expect(tf.memory().numTensors).toBe(before);
  });
});
