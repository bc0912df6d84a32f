/**
 * The in-page proxy of the engine worker: `request(kind, payload)` returns a promise of the
 * typed result; engine errors arrive as `StudioError`s (revived from `{name, message, hint}`); events go to subscribers.
 */
import { StudioError } from '../common/errors';
import type { EngineEvent, FromEngine, PayloadOf, Progress, RequestKind, RequestMessage, ResultOf } from './protocol';

interface Pending {
  /** Called with the result of the request's own kind (the engine answers each id once). */
  resolve: (value: ResultOf<RequestKind>) => void;
  reject: (error: StudioError) => void;
  onProgress?: (progress: Progress) => void;
}

/** What the client needs of a Worker (a MessagePort-like end in tests). */
export type EnginePort = Pick<Worker, 'postMessage' | 'onmessage' | 'onerror' | 'terminate'>;

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: EngineEvent) => void>();

  constructor(private readonly worker: EnginePort) {
    worker.onmessage = (e: MessageEvent<FromEngine>) => this.receive(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.failAll(new StudioError('InternalError', `The engine worker failed: ${e.message || 'it could not start'}.`, 'Reload the page.'));
    };
  }

  /**
   * Sends a request; aborting `signal` asks the engine to cancel it. A train request's photo
   * pixels move to the worker instead of being copied: its `images` are empty (detached) here afterwards.
   */
  request<K extends RequestKind>(
    kind: K,
    payload: PayloadOf<K>,
    options: { onProgress?: (p: Progress) => void; signal?: AbortSignal } = {},
  ): Promise<ResultOf<K>> {
    const id = this.nextId++;
    const { onProgress, signal } = options;
    return new Promise<ResultOf<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, onProgress });
      const message: RequestMessage<K> = { type: 'request', id, kind, payload };
      this.worker.postMessage(message, transferables(payload));
      signal?.addEventListener('abort', () => void this.request('cancel', { requestId: id }).catch(() => undefined), { once: true });
    });
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new StudioError('EngineNotReady', 'The engine was restarted.'));
  }

  private receive(message: FromEngine): void {
    if (message.type === 'event') {
      this.listeners.forEach((l) => l(message.event));
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'return') pending.resolve(message.result);
    else pending.reject(StudioError.revive(message.error));
  }

  private failAll(error: StudioError): void {
    this.pending.forEach((p) => p.reject(error));
    this.pending.clear();
  }
}

/** The buffers a request moves rather than copies: a train request's photos (hundreds of MB at 1024 px). */
function transferables(payload: unknown): Transferable[] {
  const images = (payload as { images?: unknown } | null)?.images;
  return images instanceof Float32Array ? [images.buffer as ArrayBuffer] : [];
}

export function startEngineWorker(): EngineClient {
  return new EngineClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'engine' }));
}
