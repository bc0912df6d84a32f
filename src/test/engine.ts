/** Engines for tests: on Node's WebGPU, with in-memory model cache and checkpoints, the tiny model loaded. */
import { Engine } from '../engine/engine';
import type { EngineEvent, FromEngine, JobContext, Progress, ToEngine } from '../engine/protocol';
import { serveEngine } from '../engine/serve';
import { MemoryCache } from '../model/sources/cache';
import { MemoryCheckpointStore, type CheckpointStore } from '../train/checkpoint-store';
import { folderFiles, TINY_SD } from './model-fixtures';
import { nodeBuiltinSource } from '../model/sources/node-folder';

export function jobContext(onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal): JobContext {
  return { signal, progress: onProgress };
}

/** Loads the tiny fixture as a dropped folder into `engine` (started if need be). */
export async function loadTinyModel(engine: Engine): Promise<void> {
  await engine.init();
  const { files, paths } = folderFiles(TINY_SD);
  await engine.loadModel({ model: { kind: 'local', files, paths } }, jobContext());
}

export async function engineWithTinyModel(store: CheckpointStore = new MemoryCheckpointStore(), onEvent: (e: EngineEvent) => void = () => {}): Promise<Engine> {
  const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
  const engine = new Engine(gpu, onEvent, async () => new MemoryCache(), store);
  await loadTinyModel(engine);
  return engine;
}

/** A started engine (in-memory cache and checkpoints) whose built-in model is read from the checkout; `load` loads it. */
export async function engineWithBuiltinModel(load = true): Promise<Engine> {
  const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
  const engine = new Engine(gpu, () => {}, async () => new MemoryCache(), new MemoryCheckpointStore(), async () => nodeBuiltinSource());
  await engine.init();
  if (load) await engine.loadModel({ model: { kind: 'builtin' } }, jobContext());
  return engine;
}

/** `engine` behind the worker's request loop: every message it posts, and `send`, which resolves with a request's return or throw. */
export function served(engine: Engine) {
  const messages: FromEngine[] = [];
  const replies = new Map<number, (m: FromEngine) => void>();
  const serve = serveEngine(engine, (m) => {
    messages.push(m);
    if (m.type !== 'event') replies.get(m.id)?.(m);
  });
  /** Sends a request; resolves with its return or throw. */
  const send = (request: ToEngine) =>
    new Promise<FromEngine>((resolve) => {
      replies.set(request.id, (m) => m.type !== 'progress' && resolve(m));
      void serve(request);
    });
  return { messages, send };
}
