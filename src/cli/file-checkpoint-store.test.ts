import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHECKPOINT_VERSION, type Checkpoint } from '../train/checkpoint';
import { resolveTrainerConfig } from '../train/config';
import { FileCheckpointStore } from './file-checkpoint-store';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open), rename: vi.fn(actual.rename) };
});

function checkpoint(step: number, created: number): Checkpoint {
  const tensors = [{ key: 'ti.vectors', shape: [2, 3], data: Float32Array.from([1, -0, 2.5, NaN, 3e-40, -4]) }];
  return {
    version: CHECKPOINT_VERSION,
    model: 'local:tiny-sd',
    config: resolveTrainerConfig({ method: 'ti', token: '<my-cat>', classWord: 'cat', steps: 10, resolution: 64 }),
    step,
    rngState: 12345,
    smoothedLoss: 0.1 + 0.2,
    tensors,
    moments: [{ key: 'ti.vectors', shape: [6, 2], data: new Float32Array(12).map((_, i) => Math.PI * i) }],
    created,
  };
}

const bytes = (a: Float32Array) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];

describe('FileCheckpointStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-ckpt-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    vi.mocked(fs.rename).mockClear();
    vi.mocked(fs.open).mockClear();
  });

  it('reads back exactly what it wrote (NaN, -0, subnormals), lists oldest first, deletes', async () => {
    const store = new FileCheckpointStore(join(dir, 'runs')); // created on the first put
    await store.put('b', checkpoint(7, 2000));
    await store.put('a', checkpoint(3, 1000));
    expect(readdirSync(join(dir, 'runs')).sort()).toEqual(['a.checkpoint', 'b.checkpoint']);
    const back = (await store.get('b'))!;
    const sent = checkpoint(7, 2000);
    expect(back).toMatchObject({ step: 7, rngState: 12345, smoothedLoss: 0.1 + 0.2, model: 'local:tiny-sd', config: sent.config });
    expect(back.tensors[0].data).toBeInstanceOf(Float32Array);
    expect(bytes(back.tensors[0].data)).toEqual(bytes(sent.tensors[0].data));
    expect(bytes(back.moments[0].data)).toEqual(bytes(sent.moments[0].data));
    expect((await store.list()).map((s) => [s.id, s.step])).toEqual([
      ['a', 3],
      ['b', 7],
    ]);
    await store.delete('a');
    expect(await store.get('a')).toBeNull();
    expect(await new FileCheckpointStore(join(dir, 'none')).list()).toEqual([]);
  });

  it('writes a temporary file and renames it: a crash before the rename keeps the last checkpoint whole', async () => {
    const store = new FileCheckpointStore(dir);
    await store.put('run', checkpoint(5, 1000));
    const written = vi.mocked(fs.open).mock.calls.map(([path]) => String(path));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/run\.checkpoint\.\d+-[0-9a-f]+\.tmp$/);
    expect(vi.mocked(fs.rename).mock.calls).toEqual([[written[0], join(dir, 'run.checkpoint')]]);

    vi.mocked(fs.rename).mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    await expect(store.put('run', checkpoint(6, 2000))).rejects.toMatchObject({ name: 'StorageQuotaExceeded', message: /run\.checkpoint/, hint: /Free disk space/ });
    expect((await store.get('run'))!.step).toBe(5);
    expect(readdirSync(dir)).toEqual(['run.checkpoint']); // the temporary file is gone
  });

  it('skips what a killed writer left behind and names a file it cannot read', async () => {
    const store = new FileCheckpointStore(dir);
    await store.put('run', checkpoint(5, 1000));
    const whole = readFileSync(join(dir, 'run.checkpoint'));
    writeFileSync(join(dir, 'run.checkpoint.123-abcd.tmp'), whole.subarray(0, 40));
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    expect((await store.list()).map((s) => s.id)).toEqual(['run']);

    writeFileSync(join(dir, 'cut.checkpoint'), whole.subarray(0, whole.length >> 1));
    await expect(store.get('cut')).rejects.toMatchObject({ name: 'CheckpointUnreadable', message: /cut\.checkpoint/ });
    writeFileSync(join(dir, 'text.checkpoint'), 'not a checkpoint');
    await expect(store.get('text')).rejects.toMatchObject({ name: 'CheckpointUnreadable', message: /text\.checkpoint/ });
    expect((await store.list()).map((s) => s.id)).toEqual(['run']);
  });

  it('refuses run ids that are not one file name', () => {
    const store = new FileCheckpointStore(dir);
    for (const id of ['', '..', 'a/b', 'a\\b']) expect(() => store.path(id)).toThrow(/cannot name a checkpoint file/);
  });
});
