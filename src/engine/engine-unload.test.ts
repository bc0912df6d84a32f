import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { engineWithTinyModel, jobContext, loadTinyModel } from '../test/engine';

describe('Engine: unloading the model', () => {
  it('frees its tensors and leaves no model; refused while a generation runs or waits; again with none is nothing', async () => {
    const engine = await engineWithTinyModel();
    const loaded = tf.memory().numTensors;

    const generating = engine.generate({ prompt: 'a cat', steps: 2, width: 64, height: 64, seed: 1 }, jobContext());
    expect(() => engine.unloadModel()).toThrow(expect.objectContaining({ name: 'InvalidRequest', message: expect.stringMatching(/in use/) }));
    await generating;
    expect(engine.modelInfo()).not.toBeNull();

    expect(engine.unloadModel()).toBeNull();
    expect(engine.modelInfo()).toBeNull();
    expect(tf.memory().numTensors).toBeLessThan(loaded);
    expect(engine.memory().bytesInUse).toBe(0);
    await expect(engine.generate({ prompt: 'a cat' }, jobContext())).rejects.toMatchObject({ name: 'NoModel' });
    expect(engine.unloadModel()).toBeNull();

    await loadTinyModel(engine); // a model loads again after
    expect(engine.modelInfo()?.name).toBeTruthy();
    await engine.releaseDevice();
  });
});
