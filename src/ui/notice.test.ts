/** The notice the page shows for a failed library action, from a real store's error (no DOM). */
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Concept } from '../library/concept';
import { IndexedDbConceptStore } from '../library/concept-store';
import { noticeOf } from './notice';

function concept(id: string): Concept {
  const embedding = { nVectors: 1, dim: 2, vectors: Float32Array.from([0.5, -1]) };
  return { id, token: '<my-cat>', classWord: 'cat', kind: 'object', origin: 'imported', baseModel: '', created: 1, steps: null, embedding, lora: null, loraStrength: 1, photos: [] };
}

describe('noticeOf', () => {
  it("keeps a library error's hint", async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept('a'));
    const error = await store.put(concept('b')).catch((e: unknown) => e);
    expect(noticeOf(error)).toEqual({ tone: 'error', message: expect.stringMatching(/already uses the token '<my-cat>'/), hint: expect.stringMatching(/Choose another token/) });
  });

  it('says an unknown error is a bug', () => {
    expect(noticeOf(new Error('boom'))).toEqual({ tone: 'error', message: 'boom', hint: expect.stringMatching(/bug in the studio/) });
  });
});
