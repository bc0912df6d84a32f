import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StudioError } from '../common/errors';
import type { Concept } from './concept';
import { CONCEPT_VERSION, storedConcept, summarizeConcept } from './concept-record';
import { IndexedDbConceptStore } from './concept-store';
import { CONCEPT_SUMMARIES, CONCEPTS, GALLERY, LIBRARY_DB, RUNS } from './db';
import { galleryRecord, IndexedDbGalleryStore, matchesFilter, type GalleryEntry, type GalleryRecord } from './gallery-store';
import type { ConceptUse, GenerationSettings } from './generation-settings';
import { IndexedDbRunStore, storedRun, type TrainingRun } from './run-store';

const CUBE: ConceptUse = { id: 'c-cube', token: '<cube>', method: 'lora', strength: 0.8 };
const DOG: ConceptUse = { id: 'c-dog', token: '<dog>', method: 'ti', strength: 1 };

function settings(over: Partial<GenerationSettings> = {}): GenerationSettings {
  return { prompt: 'a photo of a cat', negativePrompt: '', steps: 4, guidanceScale: 5, sampler: 'ddim', seed: 1, width: 64, height: 64, modelId: 'hf:fixtures/tiny-sd@main', modelName: 'tiny-sd', concepts: [], ...over };
}

function entry(id: string, createdAt: number, over: Partial<GenerationSettings> = {}): GalleryEntry {
  return {
    record: galleryRecord(id, createdAt, 1500, settings(over)),
    thumbnail: new Blob([new Uint8Array([1, 2, 3])], { type: 'image/webp' }),
    image: new Blob([new TextEncoder().encode(`png of ${id}`)], { type: 'image/png' }),
  };
}

async function text(b: Blob | null): Promise<string | null> {
  return b ? new TextDecoder().decode(await b.arrayBuffer()) : null;
}

const ids = (records: GalleryRecord[]) => records.map((r) => r.id);

vi.stubGlobal('IDBKeyRange', IDBKeyRange); // the page's global, as the browser has it
afterEach(() => vi.restoreAllMocks());

describe('IndexedDbGalleryStore', () => {
  it('keeps each record with its settings, thumbnail and PNG, and reads them back newest first in pages', async () => {
    const store = new IndexedDbGalleryStore(new IDBFactory());
    // Two share a time: the id orders them, and no page repeats or skips one.
    await store.add([entry('a', 100), entry('b', 300), entry('c', 200), entry('d', 300), entry('e', 50)]);
    const first = await store.page({}, null, 2);
    expect(ids(first.records)).toEqual(['d', 'b']);
    const second = await store.page({}, first.next, 2);
    expect(ids(second.records)).toEqual(['c', 'a']);
    const third = await store.page({}, second.next, 2);
    expect(ids(third.records)).toEqual(['e']);
    expect(third.next).toBeNull();
    expect(first.records[0].settings).toEqual(settings());
    expect(first.records[0].durationMs).toBe(1500);
    expect(await text(await store.image('c'))).toBe('png of c');
    expect([...new Uint8Array(await (await store.thumbnail('c'))!.arrayBuffer())]).toEqual([1, 2, 3]);
    expect(await store.count()).toBe(5);
  });

  it('filters by concept (id or token), model and prompt text, in pages and in counts', async () => {
    const store = new IndexedDbGalleryStore(new IDBFactory());
    await store.add([
      entry('cube', 1, { prompt: 'a <cube> on a table', concepts: [CUBE] }),
      entry('both', 2, { prompt: 'A <cube> and a <dog>', concepts: [CUBE, DOG] }),
      entry('plain', 3, { prompt: 'a red Sphere' }),
      entry('other-model', 4, { prompt: 'a sphere', modelId: 'builtin:shapes-sd', modelName: 'shapes' }),
    ]);
    expect(ids((await store.page({ concept: '<cube>' }, null, 10)).records)).toEqual(['both', 'cube']);
    expect(ids((await store.page({ concept: 'c-dog' }, null, 10)).records)).toEqual(['both']);
    expect(ids((await store.page({ modelId: 'builtin:shapes-sd' }, null, 10)).records)).toEqual(['other-model']);
    expect(ids((await store.page({ text: 'SPHERE' }, null, 10)).records)).toEqual(['other-model', 'plain']);
    expect(ids((await store.page({ text: 'sphere', modelId: 'hf:fixtures/tiny-sd@main' }, null, 10)).records)).toEqual(['plain']);
    // A filtered page of one continues after its last match.
    const page = await store.page({ concept: '<cube>' }, null, 1);
    expect(ids((await store.page({ concept: '<cube>' }, page.next, 1)).records)).toEqual(['cube']);
    expect(await store.count({ concept: '<cube>' })).toBe(2);
    expect(await store.count({ text: 'nothing like it' })).toBe(0);
    const choices = await store.choices();
    expect(choices.concepts).toEqual(['<cube>', '<dog>']);
    expect(choices.models).toEqual([
      { id: 'builtin:shapes-sd', name: 'shapes' },
      { id: 'hf:fixtures/tiny-sd@main', name: 'tiny-sd' },
    ]);
  });

  it('deletes several at once and Undo puts back exactly what was there', async () => {
    const store = new IndexedDbGalleryStore(new IDBFactory());
    await store.add([entry('a', 1), entry('b', 2, { concepts: [CUBE] }), entry('c', 3)]);
    const removed = await store.delete(['a', 'b']);
    expect(ids((await store.page({}, null, 10)).records)).toEqual(['c']);
    expect(await store.image('a')).toBeNull();
    expect(await store.thumbnail('b')).toBeNull();
    await store.add(removed);
    const back = await store.page({}, null, 10);
    expect(ids(back.records)).toEqual(['c', 'b', 'a']);
    expect(back.records[1].settings.concepts).toEqual([CUBE]);
    expect(await text(await store.image('b'))).toBe('png of b');
  });

  it('on a full disk stores none of the new images, keeps every one already stored and says what to delete', async () => {
    const store = new IndexedDbGalleryStore(new IDBFactory());
    await store.add([entry('kept', 1)]);
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'gallery-images') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.call(this, value, key);
    });
    const error = await store.add([entry('new-1', 2), entry('new-2', 3)]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).name).toBe('StorageQuotaExceeded');
    expect((error as StudioError).hint).toMatch(/Delete images .* in the Gallery/);
    vi.restoreAllMocks();
    expect(ids((await store.page({}, null, 10)).records)).toEqual(['kept']);
    expect(await store.thumbnail('new-1')).toBeNull();
    expect(await text(await store.image('kept'))).toBe('png of kept');
  });

  it('skips a stored record it cannot read and says how many', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbGalleryStore(factory);
    await store.add([entry('good', 1)]);
    const db = await new Promise<IDBDatabase>((resolve) => {
      const r = factory.open(LIBRARY_DB.name, LIBRARY_DB.version);
      r.onsuccess = () => resolve(r.result);
    });
    await new Promise<void>((resolve) => {
      const tx = db.transaction(GALLERY, 'readwrite');
      tx.objectStore(GALLERY).put({ id: 'bad', createdAt: 2, settings: 'lost' }, 'bad');
      tx.oncomplete = () => resolve();
    });
    db.close();
    const page = await store.page({}, null, 10);
    expect(ids(page.records)).toEqual(['good']);
    expect(page.unreadable).toBe(1);
  });
});

describe('matchesFilter', () => {
  it('matches every part of the filter, and an empty filter matches everything', () => {
    const r = entry('x', 1, { prompt: 'A <cube> at dawn', concepts: [CUBE] }).record;
    expect(matchesFilter(r, {})).toBe(true);
    expect(matchesFilter(r, { text: '  dawn ' })).toBe(true);
    expect(matchesFilter(r, { text: 'dusk' })).toBe(false);
    expect(matchesFilter(r, { concept: '<dog>' })).toBe(false);
    expect(matchesFilter(r, { concept: '<cube>', modelId: 'other' })).toBe(false);
  });
});

describe('library database version 2', () => {
  function concept(): Concept {
    return {
      id: 'c1',
      token: '<my-dog>',
      classWord: 'dog',
      kind: 'object',
      origin: 'trained',
      baseModel: 'hf:fixtures/tiny-sd@main',
      created: 1000,
      steps: 10,
      embedding: { nVectors: 1, dim: 3, vectors: Float32Array.from([0.5, -1, 2]) },
      lora: null,
      loraStrength: 1,
      photos: [new Blob([new Uint8Array([9, 8, 7])], { type: 'image/png' })],
    };
  }

  it('upgrades a version-1 database keeping its concepts and runs, and adds the gallery', async () => {
    const factory = new IDBFactory();
    const run: TrainingRun = {
      runId: 'run-1',
      options: { method: 'ti', token: '<my-dog>', classWord: 'dog', steps: 10, resolution: 64 },
      photos: [new Blob([new Uint8Array([1])], { type: 'image/png' })],
      modelId: 'hf:fixtures/tiny-sd@main',
      state: 'paused',
      step: 4,
      steps: 10,
      updated: 5,
    };
    // The database as version 1 of the studio made it.
    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = factory.open(LIBRARY_DB.name, 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore(CONCEPTS);
        r.result.createObjectStore(CONCEPT_SUMMARIES).createIndex('token', 'token', { unique: true });
        r.result.createObjectStore(RUNS);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise<void>((resolve) => {
      const tx = v1.transaction([CONCEPTS, CONCEPT_SUMMARIES, RUNS], 'readwrite');
      const record = storedConcept(concept());
      tx.objectStore(CONCEPTS).put(record, record.id);
      tx.objectStore(CONCEPT_SUMMARIES).put({ version: CONCEPT_VERSION, ...summarizeConcept(record) }, record.id);
      tx.objectStore(RUNS).put(storedRun(run), run.runId);
      tx.oncomplete = () => resolve();
    });
    v1.close();

    const gallery = new IndexedDbGalleryStore(factory);
    await gallery.add([entry('img', 1, { concepts: [{ id: 'c1', token: '<my-dog>', method: 'ti', strength: 1 }] })]);
    const concepts = new IndexedDbConceptStore(factory);
    expect((await concepts.list()).concepts.map((c) => c.token)).toEqual(['<my-dog>']);
    expect((await concepts.get('c1'))?.embedding?.vectors).toEqual(Float32Array.from([0.5, -1, 2]));
    expect(await new IndexedDbRunStore(factory).get('run-1')).toMatchObject({ state: 'paused', step: 4 });
    // Deleting the concept keeps its images: their settings name it as text.
    await concepts.delete('c1');
    const page = await gallery.page({ concept: '<my-dog>' }, null, 10);
    expect(ids(page.records)).toEqual(['img']);
  });
});
