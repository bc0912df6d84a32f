/// <reference lib="webworker" />
/** The engine Web Worker: routes protocol requests to one `Engine`. */
import { Engine } from './engine';
import { EngineError } from './errors';
import type { EngineEvent, FromEngine, ToEngine } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (message: FromEngine) => self.postMessage(message);
const engine = new Engine(self.navigator.gpu, (event: EngineEvent) => post({ type: 'event', event }));

async function handle(request: ToEngine): Promise<unknown> {
  switch (request.kind) {
    case 'init':
      return engine.init();
    case 'releaseDevice':
      return engine.releaseDevice();
    case 'memory':
      return engine.memory();
    default: {
      const unknown: { kind: string } = request;
      throw new EngineError('UnknownRequest', `The engine does not know the request '${unknown.kind}'.`);
    }
  }
}

self.onmessage = async (e: MessageEvent<ToEngine>) => {
  const request = e.data;
  try {
    post({ type: 'return', id: request.id, result: await handle(request) });
  } catch (error) {
    post({ type: 'throw', id: request.id, error: EngineError.from(error).toJSON() });
  }
};
