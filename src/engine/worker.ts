/// <reference lib="webworker" />
/** The engine Web Worker: routes protocol requests to one `Engine`. */
import { Engine, type JobContext } from './engine';
import { EngineError } from '../common/errors';
import type { EngineEvent, FromEngine, ToEngine } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (message: FromEngine, transfer: Transferable[] = []) => self.postMessage(message, transfer);
const engine = new Engine(self.navigator.gpu, (event: EngineEvent) => post({ type: 'event', event }));

const running = new Map<number, AbortController>();

async function handle(request: ToEngine, ctx: JobContext): Promise<unknown> {
  switch (request.kind) {
    case 'init':
      return engine.init();
    case 'releaseDevice':
      return engine.releaseDevice();
    case 'memory':
      return engine.memory();
    case 'loadModel':
      return engine.loadModel(request.payload.model, ctx);
    case 'modelInfo':
      return engine.modelInfo();
    case 'generate':
      return engine.generate(request.payload, ctx);
    case 'cancel':
      running.get(request.payload.requestId)?.abort();
      return null;
    case 'train':
      return engine.train(request.payload, ctx);
    case 'exportRun':
      return engine.exportRun(request.payload.runId, request.payload.what);
    case 'runConcept':
      return engine.runConcept(request.payload.runId);
    case 'deleteRun':
      return engine.deleteRun(request.payload.runId);
    case 'importConcept':
      return engine.importConcept(request.payload.file, request.payload.fileName);
    case 'exportConcept':
      return engine.exportConcept(request.payload.concept, request.payload.what);
    case 'pauseTraining':
      return engine.pauseTraining(request.payload.runId);
    case 'cachedModels':
      return engine.cachedModels();
    case 'deleteCachedModel':
      return engine.deleteCachedModel(request.payload.repo, request.payload.revision);
    default: {
      const unknown: { kind: string } = request;
      throw new EngineError('UnknownRequest', `The engine does not know the request '${unknown.kind}'.`);
    }
  }
}

self.onmessage = async (e: MessageEvent<ToEngine>) => {
  const request = e.data;
  const controller = new AbortController();
  running.set(request.id, controller);
  const ctx: JobContext = {
    signal: controller.signal,
    progress: (progress) => post({ type: 'progress', id: request.id, progress }),
  };
  try {
    const result = await handle(request, ctx);
    post({ type: 'return', id: request.id, result }, transferables(result));
  } catch (error) {
    post({ type: 'throw', id: request.id, error: EngineError.from(error).toJSON() });
  } finally {
    running.delete(request.id);
  }
};

/** Image pixels and file bytes move to the page instead of being copied. */
function transferables(result: unknown): Transferable[] {
  const r = result as { images?: { data: Uint8ClampedArray }[]; bytes?: unknown } | null;
  if (r?.images) return r.images.map((i) => i.data.buffer as ArrayBuffer);
  if (r?.bytes instanceof Uint8Array) return [r.bytes.buffer as ArrayBuffer];
  return [];
}
