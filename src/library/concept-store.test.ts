import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Concept } from './concept';
import { restoreConcept } from './concept-record';
import { IndexedDbConceptStore, type ConceptStore } from './concept-store';
import { CONCEPT_SUMMARIES, CONCEPTS, libraryDb } from './db';
import { StudioError } from '../common/errors';

const PHOTO_BYTES = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255);

function concept(over: Partial<Concept> = {}): Concept {
  return {
    id: 'c1',
    token: '<my-dog>',
    classWord: 'dog',
    kind: 'object',
    origin: 'trained',
    baseModel: 'hf:stable-diffusion-v1-5/stable-diffusion-v1-5@main',
    created: 1000,
    steps: 500,
    // values that a lossy copy would change: -0, the largest float32, a subnormal, float32 rounding
    embedding: { nVectors: 2, dim: 3, vectors: Float32Array.from([0.1, -0, 3.4028234663852886e38, 1e-45, -3.4e38, 1 / 3]) },
    lora: {
      layers: [
        {
          prefix: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k',
          down: Float32Array.from({ length: 2 * 3 }, (_, i) => Math.sin(i + 1)),
          downShape: [2, 3],
          up: Float32Array.from({ length: 4 * 2 }, (_, i) => Math.cos(i + 1) * 1e-3),
          upShape: [4, 2],
          alpha: 2,
        },
      ],
    },
    loraStrength: 0.8,
    photos: [new Blob([PHOTO_BYTES], { type: 'image/jpeg' }), new Blob([new Uint8Array([9, 8, 7])], { type: 'image/png' })],
    runId: 'run-1',
    ...over,
  };
}

function bits(a: Float32Array | undefined): number[] {
  return [...new Uint32Array(a!.buffer, a!.byteOffset, a!.length)];
}

async function bytes(b: Blob): Promise<number[]> {
  return [...new Uint8Array(await b.arrayBuffer())];
}

async function rejection(p: Promise<unknown>): Promise<StudioError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

/** Writes raw values straight into the library database, as a corrupted or foreign record would be. */
async function writeRaw(factory: IDBFactory, store: string, key: string, value: unknown): Promise<void> {
  const db = await libraryDb(factory).connection();
  const tx = db.transaction(store, 'readwrite');
  tx.objectStore(store).put(value, key);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}

async function tokens(store: ConceptStore): Promise<string[]> {
  return (await store.list()).concepts.map((c) => c.token);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDbConceptStore', () => {
  it('round-trips a concept bit-exactly, photos included', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    const original = concept();
    await store.put(original);
    const back = await store.get('c1');
    expect(back).not.toBeNull();
    expect(bits(back!.embedding?.vectors)).toEqual(bits(original.embedding!.vectors));
    expect(back!.embedding?.vectors).toBeInstanceOf(Float32Array);
    expect(bits(back!.lora?.layers[0].down)).toEqual(bits(original.lora!.layers[0].down));
    expect(bits(back!.lora?.layers[0].up)).toEqual(bits(original.lora!.layers[0].up));
    const { embedding, lora, photos, ...rest } = back!;
    const { embedding: _e, lora: _l, photos: _p, ...expected } = original;
    expect(rest).toEqual(expected);
    expect(lora!.layers[0]).toMatchObject({ prefix: original.lora!.layers[0].prefix, downShape: [2, 3], upShape: [4, 2], alpha: 2 });
    expect(embedding).toMatchObject({ nVectors: 2, dim: 3 });
    expect(photos.map((p) => p.type)).toEqual(['image/jpeg', 'image/png']);
    expect(await bytes(photos[0])).toEqual([...PHOTO_BYTES]);
    expect(await bytes(photos[1])).toEqual([9, 8, 7]);
    expect(await store.get('nope')).toBeNull();
  });

  it("keeps the photos' crops as trained, through an update", async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    const crops = [{ x: 0, y: 1, size: 0.25 }, { x: 0.5, y: 0.5, size: 1 }];
    await store.put(concept({ crops }));
    expect((await store.get(concept().id))?.crops).toEqual(crops);
    await store.update(concept().id, { loraStrength: 0.5 });
    expect((await store.get(concept().id))?.crops).toEqual(crops);
    expect(() => restoreConcept({ version: 1, ...concept(), crops: [crops[0]] })).toThrow('its photo crops are not one square a photo');
  });

  it('lists summaries newest first, with a cover photo and sizes', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ id: 'old', token: '<old>', created: 100 }));
    await store.put(concept({ id: 'new', token: '<new>', created: 300, lora: null, photos: [] }));
    await store.put(concept({ id: 'mid', token: '<mid>', created: 200, embedding: null, origin: 'imported', fileName: 'mid.safetensors' }));
    const { concepts, unreadable } = await store.list();
    expect(unreadable).toEqual([]);
    expect(concepts.map((c) => c.id)).toEqual(['new', 'mid', 'old']);
    const [fresh, mid, old] = concepts;
    expect(fresh).toMatchObject({ token: '<new>', embeddingVectors: 2, loraLayers: 0, photoCount: 0, cover: null, bytes: 6 * 4 });
    expect(mid).toMatchObject({ origin: 'imported', fileName: 'mid.safetensors', embeddingVectors: 0, loraLayers: 1 });
    expect(old.bytes).toBe((6 + 6 + 8) * 4 + 300 + 3);
    expect(await bytes(old.cover!)).toEqual([...PHOTO_BYTES]);
  });

  it('replaces a concept by id, keeping its token', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    await store.put(concept({ loraStrength: 0.5, classWord: 'puppy' }));
    expect(await store.get('c1')).toMatchObject({ loraStrength: 0.5, classWord: 'puppy' });
    expect((await store.list()).concepts).toHaveLength(1);
  });

  it('refuses a token another concept has, changing nothing', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ id: 'a', token: '<dog>' }));
    await store.put(concept({ id: 'b', token: '<cat>', classWord: 'cat' }));

    const taken = await rejection(store.put(concept({ id: 'c', token: '<dog>' })));
    expect(taken.name).toBe('ConceptTokenTaken');
    expect(taken.message).toContain('<dog>');
    expect(taken.hint).not.toBe('');
    expect(await store.get('c')).toBeNull();

    // replacing 'b' under the taken token is refused whole: its other fields are not changed either
    const replace = await rejection(store.put(concept({ id: 'b', token: '<dog>', classWord: 'changed' })));
    expect(replace.name).toBe('ConceptTokenTaken');
    expect(await store.get('b')).toMatchObject({ token: '<cat>', classWord: 'cat' });
    expect(await tokens(store)).toEqual(expect.arrayContaining(['<dog>', '<cat>']));
    expect(await tokens(store)).toHaveLength(2);
  });

  it('updates small fields in place; a rename frees the old token', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ id: 'a', token: '<dog>' }));
    await store.put(concept({ id: 'b', token: '<cat>' }));

    const updated = await store.update('a', { loraStrength: 0.25, token: '<rex>' });
    expect(updated).toMatchObject({ id: 'a', token: '<rex>', loraStrength: 0.25 });
    const back = await store.get('a');
    expect(back).toMatchObject({ token: '<rex>', loraStrength: 0.25, classWord: 'dog' });
    expect(bits(back!.embedding?.vectors)).toEqual(bits(concept().embedding!.vectors));
    expect((await store.list()).concepts.find((c) => c.id === 'a')).toMatchObject({ token: '<rex>', loraStrength: 0.25 });

    await store.put(concept({ id: 'c', token: '<dog>' })); // the old token is free again

    expect((await rejection(store.update('a', { token: '<cat>', loraStrength: 2 }))).name).toBe('ConceptTokenTaken');
    expect(await store.get('a')).toMatchObject({ token: '<rex>', loraStrength: 0.25 });

    await expect(store.update('a', { token: '  ' })).rejects.toThrow(TypeError);
    expect((await store.get('a'))?.token).toBe('<rex>');
    expect(await store.update('missing', { loraStrength: 1 })).toBeNull();
  });

  it('a rename or a new concept must be a valid token beside the others (TokenInvalid), changing nothing', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ id: 'a', token: '<dog>' }));
    await store.put(concept({ id: 'b', token: '<cat>' }));
    const refusal = async (p: Promise<unknown>) => {
      const e = (await rejection(p)) as StudioError;
      return `${e.name}: ${e.message}`;
    };
    expect(await refusal(store.update('a', { token: 'my dog' }))).toBe('TokenInvalid: "my dog" has a space in it: a token is one word.');
    expect(await refusal(store.update('a', { token: '<CAT>' }))).toMatch(/^TokenInvalid: "<CAT>" is the token of another concept/);
    expect(await refusal(store.update('a', { token: '<cat>_1' }))).toMatch(/^TokenInvalid: "<cat>_1" collides with the extra vectors of "<cat>"/);
    expect(await refusal(store.put(concept({ id: 'c', token: `<${'x'.repeat(70)}>` })))).toMatch(/^TokenInvalid: .* at most 64\.$/);
    expect(await tokens(store)).toEqual(expect.arrayContaining(['<dog>', '<cat>']));
    expect(await tokens(store)).toHaveLength(2);
    expect((await store.update('a', { token: '<Dog>' }))?.token).toBe('<Dog>'); // its own old token is no collision
  });

  it('deletes a concept and frees its token', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ id: 'a', token: '<dog>' }));
    await store.put(concept({ id: 'b', token: '<cat>' }));
    await store.delete('a');
    expect(await store.get('a')).toBeNull();
    expect(await tokens(store)).toEqual(['<cat>']);
    await store.put(concept({ id: 'c', token: '<dog>' }));
    await store.delete('missing');
    expect((await store.list()).concepts.map((c) => c.id).sort()).toEqual(['b', 'c']);
  });

  it('reports unreadable records in list() and get() instead of hiding them', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbConceptStore(factory);
    await store.put(concept({ id: 'good', token: '<good>' }));
    const bad = { version: 1, ...concept({ id: 'bad', token: '<bad>' }) };
    bad.lora!.layers[0].up = new Float32Array(12);
    bad.lora!.layers[0].upShape = [4, 3]; // rank 3 against down's rank 2
    await writeRaw(factory, CONCEPTS, 'bad', bad);
    await writeRaw(factory, CONCEPTS, 'future', { version: 99, id: 'future' });
    await writeRaw(factory, CONCEPT_SUMMARIES, 'orphan', { version: 1, id: 'orphan', token: '<orphan>' });

    const { concepts, unreadable } = await store.list();
    expect(concepts.map((c) => c.id)).toEqual(['good']);
    expect(unreadable.map((u) => u.id).sort()).toEqual(['bad', 'future', 'orphan']);
    expect(unreadable.find((u) => u.id === 'bad')?.reason).toMatch(/rank 2 but up rank 3/);
    expect(unreadable.find((u) => u.id === 'future')?.reason).toMatch(/unknown version 99/);

    const error = await rejection(store.get('bad'));
    expect(error.name).toBe('ConceptUnreadable');
    expect(error.hint).toMatch(/Delete it/);

    // and they can be deleted
    await store.delete('bad');
    await store.delete('future');
    await store.delete('orphan');
    expect(await store.list()).toMatchObject({ concepts: [{ id: 'good' }], unreadable: [] });
  });

  it('lists a readable record whose summary is broken from the record itself', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbConceptStore(factory);
    await store.put(concept({ id: 'a', token: '<a>' }));
    await writeRaw(factory, CONCEPT_SUMMARIES, 'a', { version: 1, id: 'a' });
    expect(await store.list()).toMatchObject({ concepts: [{ id: 'a', token: '<a>', photoCount: 2 }], unreadable: [] });
  });

  it('refuses to save a concept that could not be read back, storing nothing', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    const wrongLength = concept({ embedding: { nVectors: 2, dim: 3, vectors: new Float32Array(5) } });
    await expect(store.put(wrongLength)).rejects.toThrow(/5 values for 2 vectors of 3/);
    await expect(store.put(concept({ token: '' }))).rejects.toThrow(TypeError);
    await expect(store.put(concept({ embedding: null, lora: null }))).rejects.toThrow(/neither an embedding nor a LoRA/);
    expect(await store.list()).toEqual({ concepts: [], unreadable: [] });
  });

  it('names a full disk StorageQuotaExceeded and keeps what was there', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ id: 'a', token: '<a>' }));
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const error = await rejection(store.put(concept({ id: 'b', token: '<b>' })));
    expect(error.name).toBe('StorageQuotaExceeded');
    expect(error.hint).toMatch(/storage/);
    vi.restoreAllMocks();
    expect(await tokens(store)).toEqual(['<a>']);
  });

  it('names a missing IndexedDB StorageUnavailable', async () => {
    const error = await rejection(new IndexedDbConceptStore(undefined).list());
    expect(error.name).toBe('StorageUnavailable');
  });
});

describe('a concept\'s loss curve', () => {
  const lossCurve = { steps: Uint32Array.of(1, 2, 3), loss: Float32Array.of(0.5, 0.4, 0.3), smoothed: Float32Array.of(0.5, 0.49, 0.47), lr: Float32Array.of(1e-4, 1e-4, 1e-4) };

  it('is kept with the concept and in its summary, for the library card', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept({ lossCurve }));
    expect((await store.get('c1'))?.lossCurve).toEqual(lossCurve);
    const [summary] = (await store.list()).concepts;
    expect(Array.from(summary.lossCurve!.loss)).toEqual(Array.from(lossCurve.loss));
    expect((await store.update('c1', { loraStrength: 0.5 }))?.lossCurve).toEqual(lossCurve);
  });

  it('is absent from older records, which still read and list', async () => {
    const factory = new IDBFactory();
    const { lossCurve: _, ...old } = concept();
    await writeRaw(factory, CONCEPTS, 'c1', { version: 1, ...old });
    const store = new IndexedDbConceptStore(factory);
    expect((await store.get('c1'))?.token).toBe('<my-dog>');
    const { concepts, unreadable } = await store.list();
    expect(unreadable).toEqual([]);
    expect(concepts.map((c) => [c.token, 'lossCurve' in c])).toEqual([['<my-dog>', false]]);
  });

  it('makes a record unreadable when it is not a curve', () => {
    expect(() => restoreConcept({ version: 1, ...concept(), lossCurve: { ...lossCurve, lr: [1] } })).toThrow('its loss curve is not four number arrays');
  });
});

describe('restoreConcept', () => {
  const raw = (over: Partial<Concept> | Record<string, unknown>) => ({ version: 1, ...concept(), ...over });

  it('reads what it stores and names what is wrong', () => {
    expect(restoreConcept(raw({})).token).toBe('<my-dog>');
    const lora = concept().lora!;
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...concept() }, /unknown version undefined/],
      [raw({ token: ' ' }), /token is empty/],
      [raw({ id: 7 }), /no id/],
      [raw({ kind: 'person' }), /kind "person"/],
      [raw({ photos: ['not a blob'] }), /photos/],
      [raw({ steps: -1 }), /steps -1/],
      [raw({ embedding: { nVectors: 1, dim: 3, vectors: [1, 2, 3] } }), /embedding has no vectors/],
      [raw({ lora: { layers: [{ ...lora.layers[0], down: new Float32Array(5) }] } }), /down holds 5 values for shape \[2,3\]/],
      [raw({ lora: { layers: [{ ...lora.layers[0], upShape: [2, 4] }] } }), /down rank 2 but up rank 4/],
      [raw({ lora: { layers: [lora.layers[0], lora.layers[0]] } }), /twice/],
      [raw({ lora: { layers: [{ ...lora.layers[0], alpha: 0 }] } }), /alpha 0/],
      [raw({ embedding: { nVectors: 1, dim: 3, vectors: Float32Array.from([1, NaN, 3]) } }), /embedding holds a value that is not a finite number/],
      [raw({ lora: { layers: [{ ...lora.layers[0], up: lora.layers[0].up.map((v, i) => (i === 0 ? Infinity : v)) }] } }), /weight that is not a finite number/],
      [raw({ lora: { layers: [{ ...lora.layers[0], component: 'vae' }] } }), /unknown model part "vae"/],
      [raw({ textEncoderStrength: 'strong' }), /text-encoder strength strong/],
    ];
    for (const [value, reason] of cases) {
      let error: unknown = null;
      try {
        restoreConcept(value);
      } catch (e) {
        error = e;
      }
      expect(error, String(reason)).toBeInstanceOf(StudioError);
      expect((error as StudioError).name).toBe('ConceptUnreadable');
      expect((error as StudioError).message).toMatch(reason);
    }
  });
});
