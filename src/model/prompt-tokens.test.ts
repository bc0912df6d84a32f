import { describe, expect, it } from 'vitest';
import { StudioError } from '../common/errors';
import { MAX_TOKEN_LENGTH, promptUsesToken, TokenMatcher, tokenFromFileName, tokenProblem, validateToken } from './prompt-tokens';

describe('a prompt uses a token as a whole word', () => {
  it('never inside another word: e, sks, <cat>2', () => {
    expect(promptUsesToken('a photo of a red car on the street', 'e')).toBe(false);
    expect(promptUsesToken('a photo of e', 'e')).toBe(true);
    expect(promptUsesToken('she asks for it', 'sks')).toBe(false);
    expect(promptUsesToken('a sks dog', 'sks')).toBe(true);
    expect(promptUsesToken('a <cat>2 on a sofa', '<cat>')).toBe(false);
    expect(promptUsesToken('x<cat> on a sofa', '<cat>')).toBe(false);
    expect(promptUsesToken('a <cat>_1', '<cat>')).toBe(false);
  });

  it('delimited by spaces, punctuation or the ends of the text, case ignored', () => {
    for (const p of ['<cat>', 'a <cat>, on a sofa', '(<cat>:1.2)', 'a photo of <cat>!', 'a\t<cat>\nsofa', 'A PHOTO OF <CAT>']) expect(promptUsesToken(p, '<cat>'), p).toBe(true);
    expect(promptUsesToken("sks's dog", 'sks')).toBe(true);
  });

  it('finds each use once, longest token first, as the prompt spells it', () => {
    const m = new TokenMatcher(['<cat>', '<cat>_1', 'e']);
    const text = 'red <Cat> and <cat>_1, e.';
    expect(m.find(text).map((x) => [text.slice(x.start, x.end), x.token])).toEqual([
      ['<Cat>', '<cat>'],
      ['<cat>_1', '<cat>_1'],
      ['e', 'e'],
    ]);
    expect(m.add('<CAT>')).toBe(false);
  });
});

describe('validateToken', () => {
  const problem = (t: unknown, o = {}) => tokenProblem(t, o);

  it('accepts ordinary tokens', () => {
    for (const t of ['<my-cat>', 'sks', 'EasyNegative', 'ohwx_2024', '<猫>']) expect(problem(t), t).toBeNull();
    expect(validateToken('<my-cat>')).toBe('<my-cat>');
  });

  it('refuses what a prompt cannot hold as one word', () => {
    expect(problem('')).toMatch(/empty/);
    expect(problem('my cat')).toMatch(/space/);
    expect(problem('<cat>\u0000')).toMatch(/control or invisible/);
    expect(problem('<ca\u200bt>')).toMatch(/control or invisible/);
    expect(problem('x'.repeat(MAX_TOKEN_LENGTH))).toBeNull();
    expect(problem('x'.repeat(MAX_TOKEN_LENGTH + 1))).toMatch(/65 characters long: at most 64/);
    expect(problem('<>')).toMatch(/no letter or digit/);
    expect(problem(42)).toMatch(/empty/);
  });

  it('refuses vocabulary words and collisions with other concepts', () => {
    const isVocabularyWord = (t: string) => t.toLowerCase() === 'cat';
    expect(problem('Cat', { isVocabularyWord })).toMatch(/already knows/);
    expect(problem('<cat>', { isVocabularyWord })).toBeNull();
    expect(problem('<Dog>', { otherTokens: ['<dog>'] })).toMatch(/another concept/);
    expect(problem('<dog>_1', { otherTokens: ['<dog>'] })).toMatch(/extra vectors of "<dog>"/);
    expect(problem('<dog>', { otherTokens: ['<dog>_2'] })).toMatch(/would read as one of its extra vectors/);
    expect(problem('<dog>_x', { otherTokens: ['<dog>'] })).toBeNull();
  });

  it('throws TokenInvalid naming the problem', () => {
    try {
      validateToken('my cat');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(StudioError);
      expect([(e as StudioError).name, (e as StudioError).message]).toEqual(['TokenInvalid', '"my cat" has a space in it: a token is one word.']);
    }
  });

  it('derives a valid token from a file name', () => {
    expect(tokenFromFileName('dir/My Cat (v2).safetensors')).toBe('<my-cat-v2>');
    expect(tokenFromFileName('###.pt')).toBe('<concept>');
    const long = tokenFromFileName(`${'a'.repeat(200)}.bin`);
    expect(long.length).toBe(MAX_TOKEN_LENGTH);
    expect(tokenProblem(long)).toBeNull();
  });
});
