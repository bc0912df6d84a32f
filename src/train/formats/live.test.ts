/** Export from live training objects and back into them (the files in between are pure data). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as tf from '../../gpu/tf';
import { parseUNetConfig } from '../../model/config';
import { Weights } from '../../model/weights';
import { randomNormal } from '../../common/random';
import { crossAttentionLayers, Lora, loraKey } from '../lora';
import { TextualInversion } from '../textual-inversion';
import { embeddingExportFrom, exportEmbedding } from './embedding';
import { importPersonalization } from './import';
import { exportLora, loraExportFrom } from './lora-export';
import { unetModules } from './lora-modules';

const FIXTURES = new URL('../../test/fixtures', import.meta.url).pathname;
const TINY = parseUNetConfig(JSON.parse(readFileSync(`${FIXTURES}/tiny-sd/unet/config.json`, 'utf8')));

/** A UNet holding only the attn2 linears' weights: enough to attach adapters. */
function attn2Weights(): Weights {
  const tensors = new Map<string, tf.Tensor>();
  for (const [path, shape] of unetModules(TINY)) if (path.includes('.attn2.')) tensors.set(`${path}.weight`, tf.zeros(shape));
  return Weights.fromTensors('unet', tensors);
}

describe('export from training objects', () => {
  it('a trained Lora → kohya F32 file → Lora.fromValues gives the same adapters and scale', async () => {
    const before = tf.memory().numTensors;
    const unet = attn2Weights();
    const trained = Lora.create(unet, TINY, { rank: 4, alpha: 8, targets: ['to_k', 'to_v'], seed: 3 });
    // Non-zero up weights, as after training.
    trained.layers.forEach((l, i) => tf.tidy(() => l.up.assign(tf.tensor2d(randomNormal(l.up.size, 100 + i), l.up.shape))));
    const exported = await loraExportFrom(trained, ['to_k', 'to_v'], { baseModel: 'tiny-sd', steps: 10 });
    expect(exported.layers.every((l) => l.downShape[0] === 4 && l.alpha === 8)).toBe(true);
    expect(exported.layers).toHaveLength(crossAttentionLayers(TINY).length * 2);

    const imported = await importPersonalization(exportLora(exported, 'kohya'), 'tiny.safetensors', { textDim: 32, unet: TINY });
    if (imported.kind !== 'lora') throw new Error('expected a LoRA');
    const expected = await Promise.all(trained.variables().map((v) => v.data()));
    const trainedKeys = trained.keys();
    const scale = trained.scale;
    trained.dispose();

    const values = new Map(imported.layers.flatMap((l) => [
      [loraKey(l.path, 'down'), { shape: l.downShape, data: l.down }],
      [loraKey(l.path, 'up'), { shape: l.upShape, data: l.up }],
    ]));
    const restored = Lora.fromValues(unet, values, imported.alpha / imported.rank);
    expect(restored.scale).toBe(scale);
    expect(restored.keys()).toEqual(trainedKeys);
    const got = await Promise.all(restored.variables().map((v) => v.data()));
    got.forEach((g, i) => expect(g).toEqual(expected[i]));
    restored.dispose();
    unet.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a trained TextualInversion → single-key file → same vectors', async () => {
    const before = tf.memory().numTensors;
    const table = tf.tensor2d(randomNormal(10 * 32, 5), [10, 32]);
    const text = Weights.fromTensors('text_encoder', new Map([['embeddings.token_embedding.weight', table]]));
    const concept = TextualInversion.create(text, { numVectors: 2, values: randomNormal(64, 9) });
    const e = await embeddingExportFrom(concept, { token: '<tiny>', classWord: 'cat', steps: 3 });
    const back = await importPersonalization(exportEmbedding(e), 'tiny.safetensors', { textDim: 32, unet: TINY });
    expect(back).toMatchObject({ kind: 'embedding', token: '<tiny>', nVectors: 2, dim: 32 });
    expect(back.kind === 'embedding' && back.vectors).toEqual(await concept.vectors.data());
    concept.dispose();
    text.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
