import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from './load';
import { nodeFolderSource } from './sources/node-folder';
import { vaeDecode, vaeEncode } from './vae';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { randomNormal } from '../common/random';

let model: StableDiffusionModel;
beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
});
afterAll(() => model.dispose());

const decode = (latent: tf.Tensor4D) => tf.tidy(() => vaeDecode(model.vae.weights, model.vae.config, latent));

describe('Weights.offload', () => {
  it('frees the GPU bytes of what it takes, brings each weight back bit for bit on first use, and restore puts back the rest', async () => {
    const vae = model.vae.weights;
    const [bytes, tensors, names] = [vae.bytes, tf.memory().numTensors, vae.names().sort()];
    const frozen = await snapshotWeights(model);
    const latent = tf.tensor4d(randomNormal(4 * 8 * 8, 3), [1, 4, 8, 8]);
    const image = tf.tensor4d(randomNormal(3 * 64 * 64, 4, 0.5), [1, 3, 64, 64]);
    const expected = decode(latent);

    const encoder = (n: string) => n.startsWith('encoder.') || n.startsWith('quant_conv.');
    const freed = await vae.offload(() => true);
    expect(freed).toBe(bytes);
    expect(vae.bytes).toBe(0);
    expect(vae.offloadedBytes).toBe(bytes);
    expect(vae.names().sort()).toEqual(names); // still named, shaped and readable
    expect(tf.memory().numTensors).toBe(tensors + 3 - names.length); // + latent, image, expected

    // a decode brings back the decoder alone, and draws exactly what it drew
    const again = decode(latent);
    expect(Array.from(await again.data())).toEqual(Array.from(await expected.data()));
    const decoderBytes = vae.bytes;
    expect(decoderBytes).toBeGreaterThan(0);
    expect(decoderBytes).toBeLessThan(bytes);
    expect(vae.offloadedBytes).toBe(bytes - decoderBytes); // the encoder stays off

    vae.restore();
    expect(vae.bytes).toBe(bytes);
    expect(vae.offloadedBytes).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors + 4); // + latent, image, and the two decodes
    expect(await changedWeights(model, frozen)).toEqual([]);

    // the encoder alone, back on first use by an encode
    await vae.offload(encoder);
    expect(vae.bytes).toBe(decoderBytes);
    const posterior = vaeEncode(vae, model.vae.config, image);
    expect(vae.bytes).toBe(bytes);
    expect(Number.isFinite((await posterior.mean.data())[0])).toBe(true);
    tf.dispose([latent, image, expected, again, posterior.mean, posterior.logvar]);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(await changedWeights(model, frozen)).toEqual([]);
  });
});
