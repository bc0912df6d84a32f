import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { conceptUse, conceptWeights, type Concept } from './concept';
import { restoreConcept, storedConcept, summarizeConcept } from './concept-record';
import { IndexedDbConceptStore } from './concept-store';

const LAYERS = ['down_blocks.0.attentions.0.transformer_blocks.0.attn2', 'mid_block.attentions.0.transformer_blocks.0.attn2', 'up_blocks.1.attentions.0.transformer_blocks.0.attn2'];

function pplus(over: Partial<Concept> = {}): Concept {
  return {
    id: 'p1',
    token: '<my-toy>',
    classWord: 'toy',
    kind: 'object',
    origin: 'trained',
    baseModel: 'tiny-sd',
    created: 1000,
    steps: 500,
    embedding: null,
    lora: null,
    // float32 values a lossy copy would change
    layerEmbeddings: { layers: LAYERS, dim: 2, vectors: Float32Array.from([0.1, -0, 3.4e38, 1e-45, 1 / 3, -2]) },
    loraStrength: 1,
    photos: [],
    ...over,
  };
}

const record = (c: Concept) => ({ version: 1, ...c });

describe('P+ concepts in the library', () => {
  it('store and read back their per-layer vectors bit for bit, through IndexedDB too', async () => {
    const original = pplus();
    expect(restoreConcept(record(original))).toEqual(original);
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(original);
    const back = (await store.get('p1'))!;
    expect(back.layerEmbeddings!.layers).toEqual(LAYERS);
    expect(new Uint32Array(back.layerEmbeddings!.vectors.buffer)).toEqual(new Uint32Array(original.layerEmbeddings!.vectors.buffer));
    expect(summarizeConcept(back)).toMatchObject({ embeddingVectors: 3, loraLayers: 0, bytes: 24 });
    expect(conceptUse(back).method).toBe('pplus');
    expect(conceptWeights(back).layerEmbeddings).toBe(back.layerEmbeddings);
  });

  it('refuse per-layer vectors that are not finite, do not fit their layers, name a layer twice, or sit beside a plain embedding', () => {
    const bad = (layerEmbeddings: unknown, over: Partial<Concept> = {}) => () => restoreConcept(record(pplus({ layerEmbeddings: layerEmbeddings as Concept['layerEmbeddings'], ...over })));
    expect(bad({ layers: LAYERS, dim: 2, vectors: Float32Array.from([0, 0, NaN, 0, 0, 0]) })).toThrow(/not a finite number/);
    expect(bad({ layers: LAYERS, dim: 2, vectors: new Float32Array(5) })).toThrow(/5 values for 3 layers of 2/);
    expect(bad({ layers: [LAYERS[0], LAYERS[0], LAYERS[1]], dim: 2, vectors: new Float32Array(6) })).toThrow(/a layer twice/);
    expect(bad({ layers: [], dim: 2, vectors: new Float32Array(0) })).toThrow(/no vectors/);
    expect(bad(pplus().layerEmbeddings, { embedding: { nVectors: 1, dim: 2, vectors: new Float32Array(2) } })).toThrow(/both an embedding and per-layer/);
    expect(() => storedConcept(pplus({ layerEmbeddings: { layers: LAYERS, dim: 2, vectors: new Float32Array(1) } }))).toThrow(TypeError);
  });

  it('a record stored before P+ (no such field) still loads, without it', () => {
    const old = { ...pplus({ embedding: { nVectors: 1, dim: 2, vectors: Float32Array.from([1, 2]) } }) } as Partial<Concept>;
    delete old.layerEmbeddings;
    const back = restoreConcept(record(old as Concept));
    expect('layerEmbeddings' in back).toBe(false);
    expect(conceptUse(back).method).toBe('ti');
  });
});
