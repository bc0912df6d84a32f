import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, type JobContext } from './engine';
import type { EngineEvent, Progress } from './protocol';
import { randomNormal } from '../model/random';
import { MemoryCache } from '../model/sources/cache';
import { MemoryCheckpointStore } from '../train/checkpoint';
import { folderFiles } from '../test/model-fixtures';

const FIXTURE = resolve(__dirname, '../test/fixtures/tiny-sd');
const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
const RES = 64;
const images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
const options = { method: 'both' as const, token: '<my-cat>', classWord: 'cat', steps: 4, resolution: RES, seed: 1 };

function context(onProgress: (p: Progress) => void = () => {}): JobContext {
  return { signal: new AbortController().signal, progress: onProgress };
}

describe('Engine: the GPU lost mid-training', () => {
  it('stops with DeviceLost, and on a new device resumes from the last checkpoint to the same result', async () => {
    const events: EngineEvent[] = [];
    const store = new MemoryCheckpointStore();
    const engine = new Engine(gpu, (e) => events.push(e), async () => new MemoryCache(), store);
    const { files, paths } = folderFiles(FIXTURE);
    await engine.init();
    await engine.loadModel({ kind: 'local', files, paths }, context());
    let release: Promise<unknown> | null = null;
    await expect(
      engine.train({ runId: 'lost', options, images, checkpointEvery: 1 }, context((p) => {
        if (p.training?.step === 2) release ??= engine.releaseDevice();
      })),
    ).rejects.toMatchObject({ name: 'DeviceLost' });
    await release;
    expect(events.map((e) => e.type)).toContain('device-lost');
    expect((await store.get('lost'))?.step).toBe(1); // the device went before step 2's checkpoint

    await engine.init();
    await engine.loadModel({ kind: 'local', files, paths }, context());
    const steps: number[] = [];
    const resumed = await engine.train({ runId: 'lost', options, images, resume: true }, context((p) => steps.push(p.training!.step)));
    expect(steps).toEqual([2, 3, 4]);

    const straight = await engine.train({ runId: 'straight', options, images }, context());
    expect(resumed.loss).toBe(straight.loss);
    const a = (await store.get('lost'))!.tensors;
    const b = (await store.get('straight'))!.tensors;
    a.forEach((t, i) => expect(t.data).toEqual(b[i].data));
  });
});
