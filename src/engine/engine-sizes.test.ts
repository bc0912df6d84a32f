import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import type { Engine } from './engine';
import type { ModelInfo, Progress } from './protocol';
import { estimateSize } from '../model/size-cost';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { engineWithTinyModel, jobContext } from '../test/engine';

describe('Engine: sizes checked before any work', () => {
  const store = new MemoryCheckpointStore();
  let engine: Engine;
  let info: ModelInfo;
  /** The smallest power-of-two side whose largest buffer is more than this adapter holds. */
  let tooLarge: number;

  beforeAll(async () => {
    engine = await engineWithTinyModel(store);
    const { limits } = await engine.init();
    info = engine.modelInfo()!;
    const holds = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
    tooLarge = 512;
    while (estimateSize(info.sizes, { width: tooLarge, height: tooLarge, rows: 1, images: 1 }).largestBufferBytes <= holds) tooLarge *= 2;
  });

  it('the model’s info carries its size profile, native size as imageSize', () => {
    expect(info.sizes.nativeSize).toBe(256);
    expect(info.imageSize).toBe(256);
  });

  it('refuses to generate at a size the adapter cannot hold, before a step runs or a tensor is made', async () => {
    const before = tf.memory().numTensors;
    const events: Progress[] = [];
    const run = engine.generate({ prompt: 'a cat', steps: 1, width: tooLarge, height: tooLarge, seed: 1 }, jobContext((p) => events.push(p)));
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/too large for generating on this GPU: its largest buffer would be about .* and the adapter holds at most/) });
    expect(events).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to train at such a resolution before the images are read, and stores no checkpoint', async () => {
    const before = tf.memory().numTensors;
    const options = { method: 'ti' as const, token: '<big>', classWord: 'cat', steps: 2, resolution: tooLarge, seed: 1 };
    const run = engine.train({ runId: 'too-large', options, images: new Float32Array(3) }, jobContext());
    await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/too large for training on this GPU/) });
    expect(await store.get('too-large')).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
  });
});
