import { forceCloseDatabase, IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { CHECKPOINT_VERSION, type Checkpoint } from './checkpoint';
import { NEWER_VERSION_HINT } from '../storage/database';
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

const NAME = 'diffusion-studio-checkpoints';

/** A factory that hands the test every connection it opens, as another tab's code would hold its own. */
function watchedFactory(): { factory: IDBFactory; connections: IDBDatabase[] } {
  const factory = new IDBFactory();
  const connections: IDBDatabase[] = [];
  const open = factory.open.bind(factory);
  factory.open = (name: string, version?: number) => {
    const r = open(name, version);
    r.addEventListener('success', () => connections.push(r.result));
    return r;
  };
  return { factory, connections };
}

/** What another tab does: one request on the same factory, awaited. */
function otherTab<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
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

  it('keeps working after another tab deletes the database', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbCheckpointStore(factory);
    await store.put('a', checkpoint(3, 1000));
    await otherTab(factory.deleteDatabase(NAME));
    expect(await store.get('a')).toBeNull();
    await store.put('b', checkpoint(4, 2000));
    expect((await store.get('b'))!.step).toBe(4);
    expect((await store.list()).map((s) => s.id)).toEqual(['b']);
  });

  it('opens a fresh connection when the browser is closing this one (storage cleared while a read runs)', async () => {
    const { factory, connections } = watchedFactory();
    const store = new IndexedDbCheckpointStore(factory);
    await store.put('a', checkpoint(3, 1000));
    expect(connections).toHaveLength(1);
    connections[0].transaction('checkpoints').objectStore('checkpoints').get('a'); // still running when the close comes
    forceCloseDatabase(connections[0] as never); // its types ask for the class; it takes a connection
    expect((await store.get('a'))!.step).toBe(3);
    await store.put('b', checkpoint(4, 2000));
    expect(connections).toHaveLength(2);
  });

  it('says a newer version of the studio upgraded the database, in a tab opened after it', async () => {
    const factory = new IDBFactory();
    (await otherTab(factory.open(NAME, 2))).close();
    const store = new IndexedDbCheckpointStore(factory);
    await expect(store.list()).rejects.toMatchObject({ name: 'StorageUnavailable', message: 'The checkpoint database was upgraded by a newer version of the studio.', hint: NEWER_VERSION_HINT });
  });

  it('lets a newer tab upgrade the database, then says so instead of failing every step', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbCheckpointStore(factory);
    await store.put('a', checkpoint(3, 1000));
    (await otherTab(factory.open(NAME, 2))).close(); // not blocked: this tab let go of its connection
    await expect(store.get('a')).rejects.toMatchObject({ name: 'StorageUnavailable', hint: NEWER_VERSION_HINT });
    await expect(store.put('b', checkpoint(4, 2000))).rejects.toMatchObject({ name: 'StorageUnavailable', hint: NEWER_VERSION_HINT });
  });
});
