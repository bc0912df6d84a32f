import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { conceptUse, conceptWeights, type Concept, type ConceptPerfusion } from './concept';
import { restoreConcept, storedConcept, summarizeConcept } from './concept-record';
import { IndexedDbConceptStore } from './concept-store';

const LAYERS = ['down_blocks.0.attentions.0.transformer_blocks.0.attn2', 'up_blocks.1.attentions.0.transformer_blocks.0.attn2'];

function edit(over: Partial<ConceptPerfusion> = {}): ConceptPerfusion {
  return {
    layers: LAYERS,
    widths: [2, 3],
    // float32 values a lossy copy would change
    keys: Float32Array.from([0.1, -0, 3.4e38, 1e-45, 1 / 3]),
    values: Float32Array.from([1, 2, 3, 4, 5]),
    iStar: Float32Array.from([0.5, -0.25]),
    cInvIStar: Float32Array.from([2, 7]),
    gateBias: 0.7,
    gateTemperature: 0.15,
    ...over,
  };
}

function perfusion(over: Partial<Concept> = {}): Concept {
  return {
    id: 'f1', token: '<my-toy>', classWord: 'toy', kind: 'object', origin: 'trained', baseModel: 'tiny-sd', created: 1000, steps: 400,
    embedding: { nVectors: 1, dim: 2, vectors: Float32Array.from([0.3, -0.6]) },
    lora: null, perfusion: edit(), method: 'perfusion', loraStrength: 1, photos: [],
    ...over,
  };
}

const record = (c: Concept) => ({ version: 1, ...c });
const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

describe('Perfusion concepts in the library', () => {
  it('store and read back their edit bit for bit, through IndexedDB too, counted in the byte size', async () => {
    const original = perfusion();
    expect(restoreConcept(record(original))).toEqual(original);
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(original);
    const back = (await store.get('f1'))!;
    expect(back.perfusion).toMatchObject({ layers: LAYERS, widths: [2, 3], gateBias: 0.7, gateTemperature: 0.15 });
    for (const k of ['keys', 'values', 'iStar', 'cInvIStar'] as const) expect(bits(back.perfusion![k])).toEqual(bits(original.perfusion![k]));
    // embedding 2 + keys 5 + values 5 + i* 2 + C⁻¹ i* 2 floats
    expect(summarizeConcept(back)).toMatchObject({ embeddingVectors: 1, loraLayers: 0, bytes: 16 * 4, method: 'perfusion' });
    expect(conceptUse(back).method).toBe('perfusion');
    expect(conceptWeights(back).perfusion).toBe(back.perfusion);
  });

  it('refuse an edit with a value that is not finite, lengths that do not fit, a gate out of range, or beside a LoRA / no token vector', () => {
    const bad = (p: Partial<ConceptPerfusion>, over: Partial<Concept> = {}) => () => restoreConcept(record(perfusion({ perfusion: edit(p), ...over })));
    expect(bad({ values: Float32Array.from([1, 2, NaN, 4, 5]) })).toThrow(/not a finite number/);
    expect(bad({ cInvIStar: Float32Array.from([1, Infinity]) })).toThrow(/not a finite number/);
    expect(bad({ keys: new Float32Array(4) })).toThrow(/4 keys and 5 values for 5 channels/);
    expect(bad({ widths: [5] })).toThrow(/1 widths for 2 layers/);
    expect(bad({ layers: [LAYERS[0], LAYERS[0]] })).toThrow(/a layer twice/);
    expect(bad({ cInvIStar: new Float32Array(3) })).toThrow(/differ in length/);
    expect(bad({ gateBias: 1.6 })).toThrow(/gate bias 1.6 is not in \[0,1.5\]/);
    expect(bad({ gateBias: NaN })).toThrow(/gate bias/);
    expect(bad({ gateTemperature: 0 })).toThrow(/temperature 0 is not positive/);
    expect(bad({}, { embedding: null })).toThrow(/one token vector as wide as its i\*/);
    expect(bad({}, { embedding: { nVectors: 1, dim: 3, vectors: new Float32Array(3) } })).toThrow(/as wide as its i\*/);
    const lora = { layers: [{ prefix: 'a.to_k', down: new Float32Array(2), downShape: [1, 2], up: new Float32Array(2), upShape: [2, 1] as [number, number], alpha: 1 }] };
    expect(bad({}, { lora })).toThrow(/beside a LoRA/);
    expect(() => storedConcept(perfusion({ perfusion: edit({ iStar: new Float32Array(1) }) }))).toThrow(TypeError);
  });

  it('a record stored before Perfusion (no such field) still loads, without it', () => {
    const old = perfusion({ method: undefined }) as Partial<Concept>;
    delete old.perfusion;
    delete old.method;
    const back = restoreConcept(record(old as Concept));
    expect('perfusion' in back).toBe(false);
    expect(conceptUse(back).method).toBe('ti');
  });
});
