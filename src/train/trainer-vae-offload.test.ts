import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { randomNormal } from '../common/random';
import { pooledFreeBytesLimit } from '../gpu/memory';
import { Trainer, TRAINING_POOLED_FREE_BYTES } from './trainer';

let model: StableDiffusionModel;
beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
});
afterAll(() => model.dispose());

describe('a training run without the VAE on the GPU', () => {
  it('steps with the VAE off the GPU and a capped buffer pool, brings the decoder back for each preview only, and ends with the model whole', async () => {
    const vae = model.vae.weights;
    const [bytes, tensors] = [vae.bytes, tf.memory().numTensors];
    const frozen = await snapshotWeights(model);
    const images = randomNormal(2 * 3 * 64 * 64, 5, 0.5);
    const trainer = Trainer.create(model, { method: 'ti', token: '<my-cat>', classWord: 'cat', steps: 2, resolution: 64, seed: 3 }, images);
    const during: number[] = [];
    const limits: number[] = [];
    const previews: number[] = [];
    const outcome = await trainer.run({
      onProgress: () => void (during.push(vae.bytes), limits.push(pooledFreeBytesLimit())),
      previews: { every: 1, options: { steps: 1 }, show: (p) => void previews.push(p.image.width, vae.bytes) },
    });
    expect(outcome).toBe('done');
    expect(during).toEqual([0, 0]); // after a preview the decoder goes off again
    expect(limits).toEqual([TRAINING_POOLED_FREE_BYTES, TRAINING_POOLED_FREE_BYTES]);
    expect(pooledFreeBytesLimit()).toBe(Infinity); // tfjs's own pooling again after the run
    // each preview had the decoder, not the encoder
    const decoderBytes = previews[1];
    expect(previews).toEqual([64, decoderBytes, 64, decoderBytes]);
    expect(decoderBytes).toBeGreaterThan(0);
    expect(decoderBytes).toBeLessThan(bytes);
    expect(vae.bytes).toBe(bytes);
    expect(vae.offloadedBytes).toBe(0);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(await changedWeights(model, frozen)).toEqual([]);
  });
});
