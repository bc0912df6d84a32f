import { describe, expect, it } from 'vitest';
import { golden, goldenJson, readFixtureJson, readFixtureText } from '../test/golden';
import { ClipTokenizer } from './tokenizer';
import { buildTokenizerJson, type TokenizerFiles } from './tokenizer-json';

const files: TokenizerFiles = {
  vocab: readFixtureJson<Record<string, number>>('tiny-sd/tokenizer/vocab.json'),
  merges: readFixtureText('tiny-sd/tokenizer/merges.txt'),
  config: readFixtureJson('tiny-sd/tokenizer/tokenizer_config.json'),
  specialTokensMap: readFixtureJson('tiny-sd/tokenizer/special_tokens_map.json'),
};

function rows(name: string): number[][] {
  const { shape, data } = golden(name);
  return Array.from({ length: shape[0] }, (_, i) => Array.from(data.slice(i * shape[1], (i + 1) * shape[1])));
}

describe('CLIP tokenizer', () => {
  const tokenizer = ClipTokenizer.fromFiles(files);

  it('builds the tokenizer.json transformers writes for vocab.json + merges.txt', () => {
    const built = buildTokenizerJson(files);
    const reference = readFixtureJson<Record<string, unknown>>('tiny-sd-golden/reference-tokenizer.json');
    for (const key of ['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) {
      expect(built[key], key).toEqual(reference[key]);
    }
    const { vocab, merges, ...model } = built.model;
    const { vocab: refVocab, merges: refMerges, ...refModel } = reference.model as typeof built.model;
    expect(model).toEqual(refModel);
    expect(vocab).toEqual(refVocab);
    expect(merges).toEqual(refMerges);
  });

  it('special ids and length come from the config', () => {
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId, tokenizer.maxLength]).toEqual([49406, 49407, 49407, 77]);
    expect(tokenizer.vocabSize).toBe(49408);
  });

  it('every golden prompt gives the golden padded ids (tokens.input_ids)', () => {
    const { prompts, token_ids_untruncated_lengths } = goldenJson();
    const expected = rows('tokens.input_ids');
    prompts.forEach((prompt, i) => {
      const encoded = tokenizer.encode(prompt);
      expect(encoded.ids, JSON.stringify(prompt)).toEqual(expected[i]);
      expect(encoded.tokenCount).toBe(token_ids_untruncated_lengths[i]);
    });
    expect(tokenizer.encode(goldenJson().pipeline.prompt).ids).toEqual(rows('pipe.prompt_ids')[0]);
    expect(tokenizer.encode(goldenJson().pipeline.negative_prompt).ids).toEqual(rows('pipe.negative_ids')[0]);
  });

  it('reports truncation of a prompt longer than 77 tokens', () => {
    const long = goldenJson().prompts[7];
    const encoded = tokenizer.encode(long);
    expect(encoded.truncated).toBe(true);
    expect(encoded.tokenCount).toBe(107);
    expect(encoded.droppedTokenCount).toBe(107 - 77);
    expect(encoded.ids[76]).toBe(49407);
    expect(encoded.droppedText).toBe(long.split(' ').slice(-30).join(' '));
    const short = tokenizer.encode('a photo of a cat');
    expect([short.truncated, short.droppedTokenCount, short.droppedText]).toEqual([false, 0, '']);
    // Exactly 75 text tokens fit without truncation.
    expect(tokenizer.encode(Array(75).fill('a').join(' ')).truncated).toBe(false);
    expect(tokenizer.encode(Array(76).fill('a').join(' ')).droppedTokenCount).toBe(1);
  });

  it('runtime-added tokens match whole units like add_tokens (tokens.added_input_ids)', () => {
    const withToken = ClipTokenizer.fromFiles(files);
    const { added_token, added_token_prompts } = goldenJson();
    expect(withToken.addTokens([added_token.token])).toEqual([added_token.id]);
    expect(withToken.vocabSize).toBe(added_token.len_tokenizer_after);
    const expected = rows('tokens.added_input_ids');
    added_token_prompts.forEach((prompt, i) => expect(withToken.encode(prompt).ids, prompt).toEqual(expected[i]));
    expect(withToken.encode(goldenJson().prompts[0]).ids).toEqual(rows('tokens.input_ids')[0]);
    expect(withToken.encode('a photo of <my-cat>').ids).toEqual(rows('ti.input_ids')[0]);
    expect(() => withToken.addTokens(['<my-cat>'])).toThrow(/already contains the token "<my-cat>"/);
    expect(() => withToken.addTokens(['cat</w>'])).toThrow(/already contains/);
    // The base tokenizer is unaffected.
    expect(tokenizer.encode('<my-cat>').ids.slice(0, 3)).not.toContain(49408);
  });

  it('multi-vector concepts expand <tok> to <tok>, <tok>_1, … as diffusers does', () => {
    const t = ClipTokenizer.fromFiles(files);
    expect(t.addConcept('<my-cat>', 3)).toEqual([49408, 49409, 49410]);
    expect(t.addConcept('<style>', 1)).toEqual([49411]);
    const ids = t.encode('<my-cat> on a sofa in <style>, next to <my-cat>!').ids;
    expect(ids.slice(0, 14)).toEqual([49406, 49408, 49409, 49410, 525, 320, 15723, 530, 49411, 267, 1131, 531, 49408, 49409]);
    expect(ids.slice(14, 17)).toEqual([49410, 256, 49407]);
    // A single vector token written out is matched on its own (longest match), not expanded.
    expect(t.encode('<my-cat>_1').ids.slice(0, 3)).toEqual([49406, 49409, 49407]);
    expect(() => t.addConcept('<my-cat>', 2)).toThrow(/already contains/);
  });

  it('added tokens match whole words only: reet is not in street, <cat> not in <cat>2', () => {
    const t = ClipTokenizer.fromFiles(files);
    const [e] = t.addTokens(['reet']);
    const [cat] = t.addConcept('<cat>', 1);
    const street = 'a photo of a red car on the street';
    expect(t.encode(street).ids).toEqual(tokenizer.encode(street).ids);
    expect(t.tokenize('a <cat>2 on a sofa')).toEqual(tokenizer.tokenize('a <cat>2 on a sofa'));
    expect(t.tokenize('a reet, (<CAT>:1.2)')).toEqual([320, e, ...tokenizer.tokenize(', ('), cat, ...tokenizer.tokenize(':1.2)')]);
    expect(t.tokenize('(<CAT>:1.2)').filter((id) => id === cat)).toHaveLength(1);
    expect(t.decode(t.tokenize('red <cat> car'))).toBe('red <cat> car');
  });

  it('adds 10,000 tokens through Maps (no scan per token) and encodes with them', () => {
    const t = ClipTokenizer.fromFiles(files);
    const ids = t.addTokens(Array.from({ length: 10_000 }, (_, i) => `<t${i}>`));
    expect(ids[9_999]).toBe(49408 + 9_999);
    expect(t.addedCount).toBe(10_000);
    expect((t as unknown as { addedIds: unknown }).addedIds).toBeInstanceOf(Map);
    expect(t.tokenize('a <t9999> and <T5000>')).toEqual([320, 49408 + 9_999, 537, 49408 + 5_000]);
    expect(() => t.addTokens(['<T42>'])).toThrow(/already contains/);
  });

  it('knows its vocabulary words, case ignored', () => {
    expect(['cat', 'Cat', 'astronaut'].map((w) => tokenizer.isVocabularyWord(w))).toEqual([true, true, true]);
    expect(tokenizer.isVocabularyWord('<my-cat>')).toBe(false);
  });
});
