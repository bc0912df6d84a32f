import { describe, expect, it } from 'vitest';
import { conceptsInPrompt } from './concept';

describe('conceptsInPrompt', () => {
  const concepts = [{ token: 'e' }, { token: '<cat>' }, { token: '<cat>2' }, { token: 'sks' }];
  const tokens = (...prompts: string[]) => conceptsInPrompt(concepts, ...prompts).map((c) => c.token);

  it('a concept is used where its token is a word of the prompt, not a part of one', () => {
    expect(tokens('a photo of a red car on the street')).toEqual([]);
    expect(tokens('a <cat>2 on a sofa, she asks')).toEqual(['<cat>2']);
    expect(tokens('(<CAT>:1.2), e')).toEqual(['e', '<cat>']);
  });

  it('reads the negative prompt too', () => {
    expect(tokens('a house', 'blurry, sks')).toEqual(['sks']);
  });
});
