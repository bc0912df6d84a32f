import { describe, expect, it } from 'vitest';
import { completions, insertToken, tokenAt, unknownTokens } from './token-autocomplete';

const concepts = [{ token: '<my-cube>' }, { token: '<my-dog>' }, { token: '<teal-heart>' }];

describe('tokenAt', () => {
  it('finds a token being typed from its `<`', () => {
    expect(tokenAt('a photo of <my', 14)).toEqual({ start: 11, end: 14, query: '<my' });
    expect(tokenAt('<', 1)).toEqual({ start: 0, end: 1, query: '<' });
  });

  it('finds the start of a token without its `<` from two characters on', () => {
    expect(tokenAt('a photo of te', 13)).toEqual({ start: 11, end: 13, query: 'te' });
    expect(tokenAt('a photo of t', 12)).toBeNull();
  });

  it('stops at separators and ignores a token already closed', () => {
    expect(tokenAt('(red,<te', 8)).toEqual({ start: 5, end: 8, query: '<te' });
    expect(tokenAt('a <my-cube>', 11)).toBeNull();
    expect(tokenAt('a photo ', 8)).toBeNull();
  });
});

describe('completions', () => {
  it('offers the tokens that start with the query, with or without `<`, case ignored', () => {
    expect(completions(concepts, '<MY').map((c) => c.token)).toEqual(['<my-cube>', '<my-dog>']);
    expect(completions(concepts, 'tea').map((c) => c.token)).toEqual(['<teal-heart>']);
    expect(completions(concepts, 'cube')).toEqual([]);
  });

  it('leaves out a token typed out in full', () => {
    expect(completions(concepts, '<my-dog>')).toEqual([]);
  });
});

describe('insertToken', () => {
  it('replaces the typed part and puts the caret after the token and a space', () => {
    const typed = tokenAt('a photo of <my on grass', 14)!;
    expect(insertToken('a photo of <my on grass', typed, '<my-cube>')).toEqual({ text: 'a photo of <my-cube> on grass', caret: 21 });
    expect(insertToken('te', tokenAt('te', 2)!, '<teal-heart>')).toEqual({ text: '<teal-heart> ', caret: 13 });
  });
});

describe('unknownTokens', () => {
  it('names `<tokens>` the library lacks, once each, and not LoRA tags or known tokens', () => {
    expect(unknownTokens(concepts, 'a <my-cube> and <cat-toy>, <cat-toy> <lora:x:0.8>', 'no <My-Dog>, <blur>')).toEqual(['<cat-toy>', '<blur>']);
    expect(unknownTokens(concepts, 'a photo of <teal-heart>')).toEqual([]);
  });
});
