/** A concept's training method: stored where its weights cannot tell it (DreamBooth), checked on read, derived otherwise. */
import { describe, expect, it } from 'vitest';
import { conceptMethod, conceptUse, type Concept } from './concept';
import { CONCEPT_VERSION, readSummary, restoreConcept, storedConcept, summarizeConcept } from './concept-record';

const layer = { prefix: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k', down: new Float32Array(6), downShape: [2, 3], up: new Float32Array(8), upShape: [4, 2] as [number, number], alpha: 2 };

function concept(over: Partial<Concept> = {}): Concept {
  return {
    id: 'c1', token: '<my-dog>', classWord: 'dog', kind: 'object', origin: 'trained', baseModel: 'tiny-sd', created: 1, steps: 4,
    embedding: null, lora: { layers: [layer] }, loraStrength: 1, photos: [], ...over,
  };
}

describe('concept method', () => {
  it("keeps 'dreambooth' through the record and the summary; the card and the gallery read it", () => {
    const c = restoreConcept(storedConcept(concept({ method: 'dreambooth' })));
    expect(c.method).toBe('dreambooth');
    expect(conceptMethod(c)).toBe('dreambooth');
    expect(conceptUse(c).method).toBe('dreambooth');
    const summary = summarizeConcept(c);
    expect(summary.method).toBe('dreambooth');
    expect(readSummary({ version: CONCEPT_VERSION, ...summary }, 'c1')?.method).toBe('dreambooth');
  });

  it('an older record without one still loads, its method from its weights', () => {
    const old = restoreConcept({ version: CONCEPT_VERSION, ...concept() });
    expect(old.method).toBeUndefined();
    expect(conceptMethod(old)).toBe('lora');
    expect(conceptMethod(concept({ embedding: { nVectors: 1, dim: 3, vectors: new Float32Array(3) } }))).toBe('both');
    expect(conceptMethod(concept({ embedding: { nVectors: 1, dim: 3, vectors: new Float32Array(3) }, lora: null }))).toBe('ti');
  });

  it('an unknown method is ConceptUnreadable naming it; a summary with one is read from the record instead', () => {
    expect(() => restoreConcept({ version: CONCEPT_VERSION, ...concept(), method: 'hypernetwork' })).toThrow(
      expect.objectContaining({ name: 'ConceptUnreadable', message: 'This concept cannot be read: method "hypernetwork" is unknown.' }),
    );
    expect(readSummary({ version: CONCEPT_VERSION, ...summarizeConcept(concept()), method: 'hypernetwork' }, 'c1')).toBeNull();
  });
});
