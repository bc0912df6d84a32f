import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import type { Engine } from './engine';
import type { ModelSpec, Progress } from './protocol';
import { engineWithTinyModel, jobContext } from '../test/engine';
import { folderFiles, signFlipped, TINY_SD } from '../test/model-fixtures';

const RES = 32;
const images = randomNormal(3 * RES * RES, 3, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
const options = { method: 'ti' as const, token: '<my-cat>', classWord: 'cat', steps: 4, resolution: RES, seed: 1 };
const UNET = 'unet/diffusion_pytorch_model.safetensors';

/** The tiny model as a folder named `tiny-sd`, its UNet's every weight negated when `flipped`. */
function tinySd(flipped: boolean): ModelSpec {
  const { files, paths } = folderFiles(TINY_SD, 'tiny-sd/');
  const i = paths.indexOf(`tiny-sd/${UNET}`);
  if (flipped) files[i] = new File([signFlipped(readFileSync(join(TINY_SD, UNET))) as BlobPart], files[i].name);
  return { kind: 'local', files, paths };
}

describe('resuming a run on another model', () => {
  let engine: Engine;
  const store = new MemoryCheckpointStore();
  let a: { id: string; name: string };
  let b: { id: string; name: string };

  beforeAll(async () => {
    engine = await engineWithTinyModel(store);
    a = await engine.loadModel({ model: tinySd(false) }, jobContext());
    const first = await engine.train({ runId: 'run-a', options, images, checkpointEvery: 1, preview: null }, jobContext((p) => p.training?.step === 2 && engine.pauseTraining({ runId: 'run-a' })));
    expect(first).toMatchObject({ outcome: 'paused', step: 2 });
    b = await engine.loadModel({ model: tinySd(true) }, jobContext());
  });

  it('a folder of the same name with the UNet sign-flipped is another model: ModelMismatch naming both, nothing trained', async () => {
    expect([a.name, b.name]).toEqual(['tiny-sd', 'tiny-sd']);
    expect(b.id).not.toBe(a.id);
    const before = tf.memory().numTensors;
    const progress: Progress[] = [];
    const error = await engine.train({ runId: 'run-a', options, images, resume: true, preview: null }, jobContext((p) => progress.push(p))).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ModelMismatch', message: `Run 'run-a' was started on tiny-sd (${a.id}); the loaded model is tiny-sd (${b.id}).` });
    expect(progress).toEqual([]);
    expect(await store.get('run-a')).toMatchObject({ step: 2, model: a.id, modelName: 'tiny-sd' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a run checkpointed before ids named the weights goes on when its old-style id names the loaded model, and says so', async () => {
    const { modelName: _name, ...old } = (await store.get('run-a'))!;
    await store.put('run-old', { ...old, model: 'local:tiny-sd' });
    const progress: Progress[] = [];
    const done = await engine.train({ runId: 'run-old', options, images, resume: true, preview: null, checkpointEvery: 1 }, jobContext((p) => progress.push(p)));
    expect(done).toMatchObject({ outcome: 'done', step: 4, concept: { baseModel: 'tiny-sd' } }); // concepts keep the model's name
    expect(progress[0].label).toMatch(/^Run 'run-old' was saved before the studio identified models by their weights: only its model's name \(tiny-sd\) could be checked/);
    expect(progress.slice(1).map((p) => p.training?.step)).toEqual([3, 4]);
    expect(await store.get('run-old')).toMatchObject({ model: b.id, modelName: 'tiny-sd' }); // its checkpoints name the weights now

    await store.put('run-other', { ...old, model: 'local:other-sd' });
    await expect(engine.train({ runId: 'run-other', options, images, resume: true, preview: null }, jobContext())).rejects.toMatchObject({
      name: 'ModelMismatch',
      message: `Run 'run-other' was started on other-sd (local:other-sd); the loaded model is tiny-sd (${b.id}).`,
    });
  });
});
