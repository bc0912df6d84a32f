/**
 * Refusals reach the page by name with their hint, as the worker sends them (through
 * `serveEngine`, revived as the page's client does), never as the "bug in the studio".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../common/errors';
import { randomNormal } from '../common/random';
import { writeSafetensors } from '../model/safetensors-writer';
import { engineWithTinyModel, served } from '../test/engine';
import { indexedDbWithQuota } from '../test/quota-indexeddb';
import { IndexedDbCheckpointStore } from '../train/checkpoint-store';
import type { Engine } from './engine';
import type { FromEngine, ToEngine } from './protocol';

const RES = 64;
const images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
const options = { method: 'both' as const, token: '<my-cat>', classWord: 'cat', steps: 4, resolution: RES, seed: 1 };

/** What the page's client rejects with for `reply`. */
function pageError(reply: FromEngine): StudioError {
  if (reply.type !== 'throw') throw new Error(`expected a throw, got ${reply.type}`);
  return StudioError.revive(JSON.parse(JSON.stringify(reply.error)));
}

describe('engine refusals across the worker boundary', () => {
  let engine: Engine;
  let send: (request: ToEngine) => Promise<FromEngine>;

  beforeAll(async () => {
    // A browser storage with almost no room left: the first checkpoint does not fit.
    engine = await engineWithTinyModel(new IndexedDbCheckpointStore(indexedDbWithQuota(1024)));
    send = served(engine).send;
  });

  it('a checkpoint save over quota during training is StorageQuotaExceeded with its hint', async () => {
    const reply = await send({ type: 'request', id: 1, kind: 'train', payload: { runId: 'full', options, images, checkpointEvery: 1 } });
    const error = pageError(reply);
    expect(error.name).toBe('StorageQuotaExceeded');
    expect(error.message).toMatch(/save checkpoint 'full'/);
    expect(error.hint).toMatch(/Free browser storage/);
  });

  it('an imported embedding stored as I64 is ImportRefused naming the tensor', async () => {
    const file = writeSafetensors({ '<int-cat>': { dtype: 'I64', shape: [1, 32], data: new BigInt64Array(32) } });
    const reply = await send({ type: 'request', id: 2, kind: 'importConcept', payload: { file: new Blob([file as BlobPart]), fileName: 'int-cat.safetensors' } });
    const error = pageError(reply);
    expect(error.name).toBe('ImportRefused');
    expect(error.message).toMatch(/tensor '<int-cat>'.*I64/);
    expect(error.hint).not.toMatch(/bug in the studio/);
  });
});
