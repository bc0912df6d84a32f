/**
 * The engine's request loop, apart from the Worker global so Node tests run it as the worker
 * does: each request goes to its handler by kind (typed from the protocol), its progress and
 * its one `return` or `throw` go back through `post`, and `cancel` aborts a running request.
 */
import { StudioError } from '../common/errors';
import type { EngineHandlers, FromEngine, JobContext, RequestKind, RequestMessage, ResultOf, ToEngine } from './protocol';
import { transferables } from './transferables';

export type Post = (message: FromEngine, transfer?: Transferable[]) => void;

type JobKind = Exclude<RequestKind, 'cancel'>;

/** Every request kind but `cancel`, which the loop answers itself. */
export type JobHandlers = Pick<EngineHandlers, JobKind>;

export function serveEngine(jobs: JobHandlers, post: Post): (request: ToEngine) => Promise<void> {
  const running = new Map<number, AbortController>();
  return async (request) => {
    const { id } = request;
    if (request.kind === 'cancel') {
      running.get(request.payload.requestId)?.abort();
      post({ type: 'return', id, result: null });
      return;
    }
    const controller = new AbortController();
    running.set(id, controller);
    const ctx: JobContext = { signal: controller.signal, progress: (progress) => post({ type: 'progress', id, progress }) };
    try {
      const result = await run(jobs, request, ctx);
      post({ type: 'return', id, result }, transferables(result));
    } catch (error) {
      post({ type: 'throw', id, error: StudioError.from(error).toJSON() });
    } finally {
      running.delete(id);
    }
  };
}

async function run<K extends JobKind>(jobs: JobHandlers, request: RequestMessage<K>, ctx: JobContext): Promise<ResultOf<K>> {
  if (typeof jobs[request.kind] !== 'function' || request.kind in Object.prototype) {
    throw new StudioError('UnknownRequest', `The engine does not know the request '${String(request.kind)}'.`);
  }
  return jobs[request.kind](request.payload, ctx);
}

