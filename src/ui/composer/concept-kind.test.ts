import { describe, expect, it } from 'vitest';
import type { ConceptSummary } from '../../library/concept-record';
import { conceptKindLabel } from './concept-kind';

const summary = (s: Partial<ConceptSummary>): ConceptSummary => ({
  id: 'c', token: '<t>', classWord: 'cat', kind: 'object', origin: 'trained', baseModel: '', created: 1, steps: 3, loraStrength: 1,
  embeddingVectors: 0, loraLayers: 0, photoCount: 0, cover: null, bytes: 0, ...s,
});

describe("the composer's concept kind", () => {
  it('names each method, not only what its weights hold', () => {
    expect(conceptKindLabel(summary({ method: 'ti', embeddingVectors: 1 }))).toBe('embedding');
    expect(conceptKindLabel(summary({ method: 'lora', loraLayers: 32 }))).toBe('LoRA');
    expect(conceptKindLabel(summary({ method: 'both', embeddingVectors: 1, loraLayers: 32 }))).toBe('embedding + LoRA');
    expect(conceptKindLabel(summary({ method: 'pplus', embeddingVectors: 16 }))).toBe('P+ embedding');
    expect(conceptKindLabel(summary({ method: 'perfusion', embeddingVectors: 1 }))).toBe('Perfusion');
    expect(conceptKindLabel(summary({ method: 'dreambooth', embeddingVectors: 1, loraLayers: 32 }))).toBe('DreamBooth-LoRA');
  });

  it('reads an imported concept (no method) from its weights', () => {
    expect(conceptKindLabel(summary({ origin: 'imported', loraLayers: 12 }))).toBe('LoRA');
    expect(conceptKindLabel(summary({ origin: 'imported', embeddingVectors: 2 }))).toBe('embedding');
    expect(conceptKindLabel(summary({ origin: 'imported', embeddingVectors: 1, loraLayers: 12 }))).toBe('embedding + LoRA');
  });
});
