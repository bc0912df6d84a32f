import { describe, expect, it } from 'vitest';
import type { ConceptSummary } from '../library/concept-record';
import { methodLabel, summaryMethod } from './concept-method-label';

const summary = (s: Partial<ConceptSummary>): ConceptSummary => ({
  id: 'c', token: '<t>', classWord: 'cat', kind: 'object', origin: 'trained', baseModel: '', created: 1, steps: 3, loraStrength: 1,
  embeddingVectors: 0, loraLayers: 0, photoCount: 0, cover: null, bytes: 0, ...s,
});

describe("the library card's method", () => {
  it('names every method', () => {
    expect(methodLabel(summary({ method: 'ti', embeddingVectors: 2 }))).toBe('token embedding, 2 vectors');
    expect(methodLabel(summary({ method: 'lora', loraLayers: 32 }))).toBe('LoRA on 32 layers');
    expect(methodLabel(summary({ method: 'both', embeddingVectors: 1, loraLayers: 32, textEncoderLayers: 4 }))).toBe('token embedding, 1 vector + LoRA on 32 layers (4 of the text encoder)');
    expect(methodLabel(summary({ method: 'pplus', embeddingVectors: 16 }))).toBe('P+ embedding, a vector at each of 16 layers');
    expect(methodLabel(summary({ method: 'dreambooth', embeddingVectors: 1, loraLayers: 32 }))).toBe('DreamBooth + token embedding, 1 vector + LoRA on 32 layers');
    expect(methodLabel(summary({ method: 'perfusion', embeddingVectors: 1 }))).toBe('Perfusion + token embedding, 1 vector + key-locked edit of the cross-attention layers');
  });

  it('reads an older summary without a method from its weights', () => {
    expect(summaryMethod(summary({ embeddingVectors: 1, loraLayers: 2 }))).toBe('both');
    expect(summaryMethod(summary({ loraLayers: 2 }))).toBe('lora');
    expect(summaryMethod(summary({ embeddingVectors: 1 }))).toBe('ti');
  });
});
