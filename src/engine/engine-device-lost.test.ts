import { describe, expect, it } from 'vitest';
import { engineWithTinyModel, jobContext, loadTinyModel } from '../test/engine';
import type { EngineEvent } from './protocol';
import { randomNormal } from '../common/random';
import { MemoryCheckpointStore } from '../train/checkpoint-store';

const RES = 64;
const images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
const options = { method: 'both' as const, token: '<my-cat>', classWord: 'cat', steps: 4, resolution: RES, seed: 1 };


describe('Engine: the GPU lost mid-training', () => {
  it('stops with DeviceLost, and on a new device resumes from the last checkpoint to the same result', async () => {
    const events: EngineEvent[] = [];
    const store = new MemoryCheckpointStore();
    const engine = await engineWithTinyModel(store, (e) => events.push(e));
    let release: Promise<unknown> | null = null;
    await expect(
      engine.train({ runId: 'lost', options, images, checkpointEvery: 1 }, jobContext((p) => {
        if (p.training?.step === 2) release ??= engine.releaseDevice();
      })),
    ).rejects.toMatchObject({ name: 'DeviceLost' });
    await release;
    expect(events.map((e) => e.type)).toContain('device-lost');
    expect((await store.get('lost'))?.step).toBe(1); // the device went before step 2's checkpoint

    await loadTinyModel(engine);
    const steps: number[] = [];
    const resumed = await engine.train({ runId: 'lost', options, images, resume: true, preview: null }, jobContext((p) => steps.push(p.training!.step)));
    expect(steps).toEqual([2, 3, 4]);

    const straight = await engine.train({ runId: 'straight', options, images, preview: null }, jobContext());
    expect(resumed.loss).toBe(straight.loss);
    const a = (await store.get('lost'))!.tensors;
    const b = (await store.get('straight'))!.tensors;
    a.forEach((t, i) => expect(t.data).toEqual(b[i].data));
  });
});
