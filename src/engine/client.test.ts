/** The page's client over a real MessageChannel: what it posts, and what it moves instead of copying. */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineClient, type EnginePort } from './client';
import type { FromEngine, ToEngine } from './protocol';

/** One end of a MessageChannel as the client's worker, recording each postMessage's transfer list; the other end answers as the engine. */
function channel() {
  const { port1, port2 } = new MessageChannel();
  const transfers: Transferable[][] = [];
  const page = {
    onmessage: null,
    onerror: null,
    postMessage(message: unknown, transfer: Transferable[] = []) {
      transfers.push(transfer);
      port1.postMessage(message, transfer as never);
    },
    terminate: () => port1.close(),
  };
  port1.on('message', (data: unknown) => (page.onmessage as unknown as ((e: { data: unknown }) => void) | null)?.({ data }));
  const received: ToEngine[] = [];
  port2.on('message', (request: ToEngine) => {
    received.push(request);
    const answer: FromEngine = { type: 'return', id: request.id, result: { step: 1, loss: 0.5, outcome: 'paused' } };
    port2.postMessage(answer);
  });
  const close = () => {
    port1.close();
    port2.close();
  };
  return { port: page as unknown as EnginePort, transfers, received, close };
}

describe('engine client', () => {
  let close = () => {};
  afterEach(() => close());

  it("moves a train request's photos to the worker: in the transfer list, detached on the page, whole on the other side", async () => {
    const ends = channel();
    close = ends.close;
    const client = new EngineClient(ends.port);
    const images = Float32Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => i / 100 - 0.5);
    const expected = images.slice();
    const request = { runId: 'run-1', options: { method: 'ti' as const, token: '<t>', classWord: 'cat', steps: 1, resolution: 4 }, images };
    const result = await client.request('train', request);
    expect(result).toEqual({ step: 1, loss: 0.5, outcome: 'paused' });
    expect(ends.transfers).toEqual([[images.buffer]]);
    expect(images.buffer.byteLength).toBe(0); // detached: moved, not copied
    expect(images).toHaveLength(0);
    const sent = ends.received[0];
    expect(sent.kind).toBe('train');
    expect((sent.payload as { images: Float32Array }).images).toEqual(expected);
  });

  it('moves nothing else', async () => {
    const ends = channel();
    close = ends.close;
    await new EngineClient(ends.port).request('deleteRun', { runId: 'r' });
    expect(ends.transfers).toEqual([[]]);
  });
});
