import { describe, expect, it } from 'vitest';
import { loadHistory, rememberPrompt, saveHistory, searchHistory } from './prompt-history';

describe('prompt history', () => {
  it('puts the newest prompt first, once, and keeps at most N', () => {
    let h = rememberPrompt([], 'a red cube');
    h = rememberPrompt(h, 'a blue ball');
    h = rememberPrompt(h, ' a red cube ');
    expect(h).toEqual(['a red cube', 'a blue ball']);
    expect(rememberPrompt(['b', 'c'], 'a', 2)).toEqual(['a', 'b']);
    expect(rememberPrompt(['b'], '  ')).toEqual(['b']);
  });

  it('finds the prompts holding every word searched for', () => {
    const h = ['a photo of <my-cube> on grass', 'a red ball', 'a cube of ice'];
    expect(searchHistory(h, 'CUBE')).toEqual(['a photo of <my-cube> on grass', 'a cube of ice']);
    expect(searchHistory(h, 'cube grass')).toEqual(['a photo of <my-cube> on grass']);
    expect(searchHistory(h, '')).toEqual(h);
  });

  it('survives in storage, and reads a damaged entry as empty', () => {
    const items = new Map<string, string>();
    const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
    saveHistory(['x', 'y'], storage);
    expect(loadHistory(storage)).toEqual(['x', 'y']);
    items.set('studio.prompt-history', '{not json');
    expect(loadHistory(storage)).toEqual([]);
    expect(loadHistory(undefined)).toEqual([]);
  });
});
