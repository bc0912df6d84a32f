import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { libraryDb, RUNS } from './db';
import { StudioError } from '../common/errors';
import { IndexedDbRunStore, restoreRun, type TrainingRun } from './run-store';

const PHOTO_BYTES = Uint8Array.from({ length: 200 }, (_, i) => (i * 91) & 255);

function run(over: Partial<TrainingRun> = {}): TrainingRun {
  return {
    runId: 'run-1',
    options: { method: 'lora', token: '<my-dog>', classWord: 'dog', steps: 400, resolution: 512, rank: 8, targets: ['to_k', 'to_v'], seed: 7 },
    photos: [new Blob([PHOTO_BYTES], { type: 'image/jpeg' })],
    modelId: 'hf:stable-diffusion-v1-5/stable-diffusion-v1-5@main',
    state: 'running',
    step: 100,
    steps: 400,
    updated: 1000,
    ...over,
  };
}

async function writeRaw(factory: IDBFactory, key: string, value: unknown): Promise<void> {
  const db = await libraryDb(factory).connection();
  const tx = db.transaction(RUNS, 'readwrite');
  tx.objectStore(RUNS).put(value, key);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}

describe('IndexedDbRunStore', () => {
  it('keeps the loss curve a checkpoint or a pause writes; older records without one still read', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await store.put(run());
    expect('losses' in (await store.get('run-1'))!).toBe(false);
    const losses = { steps: Uint32Array.of(1, 2), loss: Float32Array.of(0.3, 0.2), smoothed: Float32Array.of(0.3, 0.29), lr: Float32Array.of(1e-4, 1e-4) };
    await store.update('run-1', { state: 'paused', step: 2, losses });
    expect((await store.get('run-1'))?.losses).toEqual(losses);
    expect((await store.update('run-1', { state: 'running' }))?.losses).toEqual(losses); // a resumed run keeps its earlier points
    expect(() => restoreRun({ ...run(), losses: { ...losses, steps: Uint32Array.of(2, 1) }, version: 1 })).toThrow('its loss curve steps do not increase');
    const none = { steps: new Uint32Array(0), loss: new Float32Array(0), smoothed: new Float32Array(0), lr: new Float32Array(0) };
    await store.put(run({ runId: 'run-2', step: 0, losses: none })); // a new run: no points yet
    expect((await store.get('run-2'))?.losses).toEqual(none);
  });

  it('round-trips a run, photos included', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await store.put(run());
    const back = await store.get('run-1');
    const { photos, ...rest } = back!;
    const { photos: _, ...expected } = run();
    expect(rest).toEqual(expected);
    expect(photos).toHaveLength(1);
    expect(photos[0].type).toBe('image/jpeg');
    expect([...new Uint8Array(await photos[0].arrayBuffer())]).toEqual([...PHOTO_BYTES]);
    expect(await store.get('missing')).toBeNull();
  });

  it("keeps each photo's crop, so a resumed run trains on the same squares; older records have none", async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await store.put(run({ crops: [{ x: 0, y: 0.5, size: 0.5 }] }));
    expect((await store.get('run-1'))?.crops).toEqual([{ x: 0, y: 0.5, size: 0.5 }]);
    expect((await store.update('run-1', { step: 120 }))?.crops).toEqual([{ x: 0, y: 0.5, size: 0.5 }]);
    expect('crops' in restoreRun({ ...run(), version: 1 })).toBe(false);
    expect(() => restoreRun({ ...run(), crops: [], version: 1 })).toThrow('its photo crops are not one square a photo');
    expect(() => restoreRun({ ...run(), crops: [{ x: 2, y: 0, size: 1 }], version: 1 })).toThrow(StudioError);
  });

  it('keeps the model\'s name beside its id; a record from before names has none, and a name that is not text is unreadable', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await store.put(run({ modelId: 'local:tiny-sd#0123456789ab', modelName: 'tiny-sd' }));
    expect(await store.get('run-1')).toMatchObject({ modelId: 'local:tiny-sd#0123456789ab', modelName: 'tiny-sd' });
    expect((await store.update('run-1', { step: 120 }))?.modelName).toBe('tiny-sd');
    const old = restoreRun({ ...run({ modelId: 'local:tiny-sd' }), version: 1 });
    expect('modelName' in old).toBe(false);
    expect(() => restoreRun({ ...run(), modelName: 7, version: 1 })).toThrow('its model name is not text');
  });

  it("keeps a failed run's error, so a reload tells it as it was told; a run that goes on drops it", async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    const diverged = { name: 'TrainingDiverged', message: 'Training diverged at step 6: lower the learning rate.', hint: 'Lower the learning rate.' } as const;
    await store.put(run());
    await store.update('run-1', { state: 'failed', error: diverged });
    expect((await store.latest())?.error).toEqual(diverged);
    expect(await store.update('run-1', { state: 'running' })).not.toHaveProperty('error');
    expect(await store.get('run-1')).not.toHaveProperty('error');
    expect(() => restoreRun({ ...run({ state: 'failed' }), error: { name: 'X' }, version: 1 })).toThrow('its failure is not an error');
  });

  it('keeps what a paused run showed, its loss and previews (pixels included), so a reload tells it as paused', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await store.put(run());
    const pixels = Uint8ClampedArray.from({ length: 2 * 2 * 4 }, (_, i) => i * 13);
    const previews = [{ step: 100, prompt: 'a photo of a <my-dog>', image: { width: 2, height: 2, data: pixels } }];
    await store.update('run-1', { state: 'paused', step: 120, loss: 0.125, previews });
    const back = await store.latest();
    expect(back).toMatchObject({ state: 'paused', step: 120, loss: 0.125 });
    expect(back!.previews).toHaveLength(1);
    expect(back!.previews![0]).toMatchObject({ step: 100, prompt: 'a photo of a <my-dog>', image: { width: 2, height: 2 } });
    expect([...back!.previews![0].image.data]).toEqual([...pixels]);
    // a run without them (older records) reads as before
    await store.put(run({ runId: 'run-2' }));
    expect(await store.get('run-2')).not.toHaveProperty('previews');
    expect(await store.get('run-2')).not.toHaveProperty('loss');
  });

  it('latest() is the most recently updated run that is not done', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    expect(await store.latest()).toBeNull();
    await store.put(run({ runId: 'paused', state: 'paused', updated: 200 }));
    await store.put(run({ runId: 'done', state: 'done', step: 400, updated: 900 }));
    await store.put(run({ runId: 'running', state: 'running', updated: 500 }));
    await store.put(run({ runId: 'older', state: 'running', updated: 100 }));
    expect((await store.latest())?.runId).toBe('running');
    await store.put(run({ runId: 'failed', state: 'failed', updated: 600 }));
    expect((await store.latest())?.runId).toBe('failed');
    expect((await store.list()).runs.map((r) => r.runId)).toEqual(['done', 'failed', 'running', 'paused', 'older']);

    for (const id of ['failed', 'running', 'paused', 'older']) await store.update(id, { state: 'done', step: 400 });
    expect(await store.latest()).toBeNull();
  });

  it('updates progress in place and deletes', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await store.put(run());
    const updated = await store.update('run-1', { step: 250, state: 'paused', updated: 5000 });
    expect(updated).toMatchObject({ step: 250, state: 'paused', updated: 5000 });
    expect(await store.get('run-1')).toMatchObject({ step: 250, state: 'paused', updated: 5000, options: run().options });

    const before = Date.now();
    expect((await store.update('run-1', { step: 260 }))!.updated).toBeGreaterThanOrEqual(before);

    await expect(store.update('run-1', { step: 401 })).rejects.toThrow(TypeError);
    expect((await store.get('run-1'))?.step).toBe(260);
    expect(await store.update('missing', { step: 1 })).toBeNull();

    await store.delete('run-1');
    expect(await store.get('run-1')).toBeNull();
    expect(await store.list()).toEqual({ runs: [], unreadable: [] });
  });

  it('refuses to save a run that could not be read back', async () => {
    const store = new IndexedDbRunStore(new IDBFactory());
    await expect(store.put(run({ state: 'lost' as TrainingRun['state'] }))).rejects.toThrow(/state "lost"/);
    await expect(store.put(run({ modelId: '' }))).rejects.toThrow(TypeError);
    expect((await store.list()).runs).toEqual([]);
  });

  it('reports unreadable runs in list() and get(); latest() goes on without them', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbRunStore(factory);
    await store.put(run({ runId: 'good', updated: 10 }));
    await writeRaw(factory, 'bad', { version: 1, ...run({ runId: 'bad', updated: 99 }), options: { method: 'lora' } });
    await writeRaw(factory, 'moved', { version: 1, ...run({ runId: 'elsewhere' }) });

    const { runs, unreadable } = await store.list();
    expect(runs.map((r) => r.runId)).toEqual(['good']);
    expect(unreadable.map((u) => u.runId).sort()).toEqual(['bad', 'moved']);
    expect(unreadable.find((u) => u.runId === 'bad')?.reason).toMatch(/training option token is missing/);

    const error = await store.get('bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect(error).toMatchObject({ name: 'RunUnreadable' });
    expect((await store.latest())?.runId).toBe('good');
  });
});

describe('restoreRun', () => {
  it('names what is wrong', () => {
    const cases: [unknown, RegExp][] = [
      ['run', /not an object/],
      [{ ...run() }, /unknown version undefined/],
      [{ version: 1, ...run(), step: 1.5 }, /step 1.5/],
      [{ version: 1, ...run(), photos: [new Uint8Array(3)] }, /photos/],
      [{ version: 1, ...run(), options: { ...run().options, resolution: 0 } }, /resolution = 0/],
      [{ version: 1, ...run(), loss: '0.1' }, /its loss is not a number/],
      [{ version: 1, ...run(), previews: {} }, /its previews are not a list/],
      [{ version: 1, ...run(), previews: [{ step: 401, prompt: 'p', image: { width: 1, height: 1, data: new Uint8ClampedArray(4) } }] }, /a preview is not an image of a step/],
      [{ version: 1, ...run(), previews: [{ step: 1, prompt: 'p', image: { width: 2, height: 1, data: new Uint8ClampedArray(4) } }] }, /a preview is not an image of a step/],
    ];
    for (const [value, reason] of cases) {
      expect(() => restoreRun(value)).toThrow(reason);
      expect(() => restoreRun(value)).toThrow(StudioError);
    }
  });
});
