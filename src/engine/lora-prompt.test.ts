import { describe, expect, it } from 'vitest';
import { rewriteLoraTokens } from './lora-prompt';

describe('the prompt a LoRA-only concept is generated with', () => {
  it('a token e leaves the e of other words alone', () => {
    expect(rewriteLoraTokens('a photo of a red car on the street', [{ token: 'e', classWord: '' }])).toBe('a photo of a red car on the street');
    expect(rewriteLoraTokens('a photo of a red car on the street, e', [{ token: 'e', classWord: 'style' }])).toBe('a photo of a red car on the street, e style');
  });

  it('<cat>2 and asks are other words; <cat>, and (sks:1.2) are uses', () => {
    const concepts = [
      { token: '<cat>', classWord: 'cat' },
      { token: 'sks', classWord: 'dog' },
    ];
    expect(rewriteLoraTokens('a <cat>2 asks', concepts)).toBe('a <cat>2 asks');
    expect(rewriteLoraTokens('a <cat>, (sks:1.2)', concepts)).toBe('a <cat> cat, (sks dog:1.2)');
  });

  it('keeps a class word the prompt already writes, and takes out a token without one', () => {
    expect(rewriteLoraTokens('a <style> painting of a house', [{ token: '<style>', classWord: 'painting' }])).toBe('a <style> painting of a house');
    expect(rewriteLoraTokens('a <style> paintings', [{ token: '<style>', classWord: 'painting' }])).toBe('a <style> painting paintings');
    expect(rewriteLoraTokens('a <style> painting of <s2> a house', [{ token: '<s2>', classWord: '' }])).toBe('a <style> painting of a house');
  });
});
