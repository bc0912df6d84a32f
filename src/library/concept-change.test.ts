import { describe, expect, it } from 'vitest';
import type { Concept, ConceptPerfusion } from './concept';
import { summarizeConcept } from './concept-record';
import { applyConceptChange } from './concept-store';

const perfusion: ConceptPerfusion = {
  layers: ['down_blocks.0.attentions.0.transformer_blocks.0.attn2'], widths: [2],
  keys: new Float32Array(2), values: new Float32Array(2), iStar: new Float32Array(2), cInvIStar: new Float32Array(2),
  gateBias: 0.7, gateTemperature: 0.15,
};
const concept = (over: Partial<Concept> = {}): Concept => ({
  id: 'c', token: '<t>', classWord: 'cat', kind: 'object', origin: 'trained', baseModel: '', created: 1, steps: 3,
  embedding: { nVectors: 1, dim: 2, vectors: new Float32Array(2) }, lora: null, loraStrength: 1, photos: [], ...over,
});

describe("a concept's gate bias change", () => {
  it("sets a Perfusion concept's perfusion.gateBias, keeping the rest of its edit", () => {
    const next = applyConceptChange(concept({ perfusion }), { gateBias: 0.45 });
    expect(next.perfusion?.gateBias).toBe(0.45);
    expect(next.perfusion?.gateTemperature).toBe(0.15);
    expect(next.perfusion?.layers).toEqual(perfusion.layers);
    expect(perfusion.gateBias).toBe(0.7); // the stored record is not changed in place
  });

  it('leaves a concept without Perfusion alone, and other changes as before', () => {
    expect(applyConceptChange(concept(), { gateBias: 0.45 }).perfusion).toBeUndefined();
    expect(applyConceptChange(concept({ perfusion }), { loraStrength: 0.5 })).toMatchObject({ loraStrength: 0.5, perfusion: { gateBias: 0.7 } });
  });

  it("the library's summary carries the gate bias for Perfusion concepts only", () => {
    expect(summarizeConcept(concept({ perfusion: { ...perfusion, gateBias: 0.85 } })).gateBias).toBe(0.85);
    expect(summarizeConcept(concept()).gateBias).toBeUndefined();
  });
});
