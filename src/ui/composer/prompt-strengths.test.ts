import { describe, expect, it } from 'vitest';
import { conceptUse, conceptWeights, type Concept } from '../../library/concept';
import { atPromptStrengths } from './prompt-strengths';

const concept = (id: string, lora: boolean): Concept => ({
  id,
  token: `<${id}>`,
  classWord: 'cube',
  kind: 'object',
  origin: 'trained',
  baseModel: '',
  created: 0,
  steps: null,
  embedding: { nVectors: 1, dim: 2, vectors: new Float32Array(2) },
  lora: lora ? { layers: [] } : null,
  loraStrength: 0.9,
  photos: [],
});

describe('atPromptStrengths', () => {
  it('sends and records a LoRA at this prompt’s strength; others keep theirs', () => {
    const [lora, other, ti] = atPromptStrengths([concept('a', true), concept('b', true), concept('c', false)], { a: 0.4, c: 0.2 });
    expect(conceptWeights(lora).loraStrength).toBe(0.4);
    expect(conceptUse(lora)).toMatchObject({ id: 'a', method: 'both', strength: 0.4 });
    expect(conceptUse(other).strength).toBe(0.9);
    expect(conceptUse(ti)).toMatchObject({ method: 'ti', strength: 1 });
  });
});
