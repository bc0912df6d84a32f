/** The worker's request loop on a real Engine (tiny model, Node WebGPU): dispatch, progress, cancel, errors. */
import { describe, expect, it } from 'vitest';
import { StudioError } from '../common/errors';
import type { ToEngine } from './protocol';
import { engineWithTinyModel, served } from '../test/engine';

describe('serveEngine', () => {
  it('answers each request by kind, streams progress, cancels on request, and names unknown kinds', async () => {
    const engine = await engineWithTinyModel();
    const { messages, send } = served(engine);

    expect(await send({ type: 'request', id: 1, kind: 'modelInfo', payload: {} })).toMatchObject({ type: 'return', id: 1, result: { id: expect.stringMatching(/^local:/) } });

    const generation = send({ type: 'request', id: 2, kind: 'generate', payload: { prompt: 'a cat', steps: 3, width: 64, height: 64, seed: 1 } });
    const done = await generation;
    expect(done).toMatchObject({ type: 'return', id: 2 });
    expect(messages.filter((m) => m.type === 'progress' && m.id === 2).length).toBe(3);

    const long = send({ type: 'request', id: 3, kind: 'generate', payload: { prompt: 'a cat', steps: 50, width: 64, height: 64, seed: 1 } });
    await new Promise<void>((resolve) => {
      const check = () => (messages.some((m) => m.type === 'progress' && m.id === 3) ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(await send({ type: 'request', id: 4, kind: 'cancel', payload: { requestId: 3 } })).toEqual({ type: 'return', id: 4, result: null });
    const cancelled = await long;
    expect(cancelled.type === 'throw' && StudioError.revive(cancelled.error).name).toBe('Cancelled');

    const unknown = { type: 'request', id: 5, kind: 'toString', payload: {} } as unknown as ToEngine;
    expect(await send(unknown)).toMatchObject({ type: 'throw', id: 5, error: { name: 'UnknownRequest', message: /toString/ } });

    expect(await send({ type: 'request', id: 6, kind: 'generate', payload: { prompt: ' ' } })).toMatchObject({ type: 'throw', id: 6, error: { name: 'InvalidRequest', hint: expect.any(String) } });
  });
});
