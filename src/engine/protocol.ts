/**
 * The typed message protocol between the page and the engine worker.
 *
 * Page → engine: `{type: 'request', id, kind, payload}` where `kind` names a method of
 * `EngineApi`. Engine → page: exactly one `return` or `throw` per request (any number of
 * `progress` before it), plus unsolicited `event`s (device lost). The page never holds tensors:
 * everything crossing here is structured-clonable data.
 */
import type { SerializedError } from './errors';
import type { GpuCapabilities } from './gpu';

/** Requests the engine answers: payload in, result out. */
export interface EngineApi {
  /** Acquires the GPU and builds the tensor backend. Idempotent while the device lives. */
  init: (payload: Record<string, never>) => GpuCapabilities;
  /** Destroys the GPU device, freeing its memory for other tabs; answered after the loss event. */
  releaseDevice: (payload: Record<string, never>) => null;
  /** GPU memory held by the engine. */
  memory: (payload: Record<string, never>) => EngineMemory;
}

export type RequestKind = keyof EngineApi;
export type PayloadOf<K extends RequestKind> = Parameters<EngineApi[K]>[0];
export type ResultOf<K extends RequestKind> = ReturnType<EngineApi[K]>;

export interface EngineMemory {
  /** Bytes in live GPU buffers. */
  bytesInUse: number;
  /** Bytes allocated from the device, pooled free buffers included. */
  bytesAllocated: number;
  tensors: number;
}

export interface Progress {
  /** What is being done, for the user ("Compiling kernels", "Step 12/400"). */
  label: string;
  /** 0..1, or null when unknown. */
  fraction: number | null;
}

export type EngineEvent = {
  type: 'device-lost';
  /** 'destroyed': we released it on purpose; 'unknown': driver reset, out of memory, ... */
  reason: 'destroyed' | 'unknown';
  message: string;
};

export type ToEngine = {
  [K in RequestKind]: { type: 'request'; id: number; kind: K; payload: PayloadOf<K> };
}[RequestKind];

export type FromEngine =
  | { type: 'return'; id: number; result: unknown }
  | { type: 'throw'; id: number; error: SerializedError }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'event'; event: EngineEvent };
