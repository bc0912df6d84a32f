import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../model/safetensors-writer';
import { importPersonalization } from './import';
import { importedToken, loraFileToken } from './import-token';
import { sd15UNetConfig } from './sizes';

describe("an imported file's token", () => {
  const isVocabularyWord = (t: string) => t.toLowerCase() === 'cat';

  it("keeps the file's own token when it is valid", () => {
    expect(importedToken('<my-cat>', 'x.safetensors', { isVocabularyWord })).toEqual({ token: '<my-cat>' });
    // a LoRA's trigger word may be a word the model knows: it gets no vectors
    expect(importedToken('cat', 'x.safetensors')).toEqual({ token: 'cat' });
  });

  it('makes one from the file name where the file\'s is not valid, saying why', () => {
    expect(importedToken('cat', 'Cat Toy.pt', { isVocabularyWord })).toEqual({
      token: '<cat-toy>',
      tokenNote: 'The file\'s token "cat" is a word the model already knows: its own meaning would be lost; it is <cat-toy> here instead (rename it to choose another).',
    });
    expect(importedToken(loraFileToken({}, 'dir/my lora v2.safetensors'), 'dir/my lora v2.safetensors').token).toBe('<my-lora-v2>');
    expect(importedToken(loraFileToken({ 'studio.token': '<ok>' }, 'my lora.safetensors'), 'my lora.safetensors')).toEqual({ token: '<ok>' });
  });

  it('importPersonalization sets it on what it reads', async () => {
    const bytes = writeSafetensors({ 'two words': { dtype: 'F32', shape: [1, 768], data: new Float32Array(768) } });
    const imported = await importPersonalization(bytes, 'Two Words.safetensors', { textDim: 768, unet: sd15UNetConfig(), isVocabularyWord });
    expect(imported).toMatchObject({ kind: 'embedding', token: '<two-words>', tokenNote: expect.stringMatching(/"two words" has a space in it/) });
  });
});
