import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from './engine';
import { engineWithTinyModel, served } from '../test/engine';

describe('Engine: counting a prompt’s tokens against the text encoder’s window', () => {
  let engine: Engine;

  beforeAll(async () => {
    engine = await engineWithTinyModel();
  });

  it('counts the start and end tokens with the words, against the 77-token window', () => {
    expect(engine.countTokens({ prompt: 'a red cube' })).toEqual({ count: 5, window: 77, droppedText: '' });
  });

  it('says what the encoder will not read', () => {
    const prompt = `${Array(75).fill('red').join(' ')} blue green`;
    expect(engine.countTokens({ prompt })).toEqual({ count: 79, window: 77, droppedText: 'blue green' });
  });

  it('counts a concept’s token as its vectors, not as the pieces the vocabulary splits it into', () => {
    const plain = engine.countTokens({ prompt: 'a <my-cube-token>' }).count;
    expect(plain).toBeGreaterThan(4);
    expect(engine.countTokens({ prompt: 'a <my-cube-token>', concepts: [{ token: '<my-cube-token>', nVectors: 2 }] }).count).toBe(5);
  });

  it('answers through the worker’s request loop', async () => {
    const { send } = served(engine);
    expect(await send({ type: 'request', id: 1, kind: 'countTokens', payload: { prompt: 'a cat' } })).toEqual({ type: 'return', id: 1, result: { count: 4, window: 77, droppedText: '' } });
  });
});
