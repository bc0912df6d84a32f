import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { CHECKPOINT_VERSION, type Checkpoint } from './checkpoint';
import { IndexedDbCheckpointStore } from './checkpoint-store';
import { resolveTrainerConfig } from './config';

function checkpoint(step: number, created: number): Checkpoint {
  const tensors = [{ key: 'ti.vectors', shape: [2, 3], data: Float32Array.from([1, -0, 2.5, NaN, 3, -4]) }];
  return {
    version: CHECKPOINT_VERSION,
    model: 'hf:fixtures/tiny-sd@main',
    config: resolveTrainerConfig({ method: 'ti', token: '<my-cat>', classWord: 'cat', steps: 10, resolution: 64 }),
    step,
    rngState: 12345,
    smoothedLoss: 0.5,
    tensors,
    moments: [{ key: 'ti.vectors', shape: [6, 2], data: new Float32Array(12).fill(0.25) }],
    created,
  };
}

describe('IndexedDbCheckpointStore', () => {
  it('keeps checkpoints bit-exact, lists summaries oldest first, and deletes', async () => {
    const store = new IndexedDbCheckpointStore(new IDBFactory());
    await store.put('b', checkpoint(7, 2000));
    await store.put('a', checkpoint(3, 1000));
    const back = (await store.get('b'))!;
    expect(back.step).toBe(7);
    expect(new Uint8Array(back.tensors[0].data.buffer)).toEqual(new Uint8Array(checkpoint(7, 2000).tensors[0].data.buffer));
    expect((await store.list()).map((s) => [s.id, s.step, s.bytes])).toEqual([
      ['a', 3, 72],
      ['b', 7, 72],
    ]);
    await store.delete('a');
    expect(await store.get('a')).toBeNull();
    expect((await store.list()).map((s) => s.id)).toEqual(['b']);
  });

  it('names a full disk StorageQuotaExceeded and keeps the last checkpoint', async () => {
    const store = new IndexedDbCheckpointStore(new IDBFactory());
    await store.put('run', checkpoint(5, 1000));
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    try {
      await expect(store.put('run', checkpoint(6, 2000))).rejects.toMatchObject({ name: 'StorageQuotaExceeded', hint: /Free browser storage/ });
    } finally {
      put.mockRestore();
    }
    expect((await store.get('run'))!.step).toBe(5);
  });
});
