/** Engines for tests: on Node's WebGPU, with in-memory model cache and checkpoints, the tiny model loaded. */
import { Engine } from '../engine/engine';
import type { EngineEvent, JobContext, Progress } from '../engine/protocol';
import { MemoryCache } from '../model/sources/cache';
import { MemoryCheckpointStore } from '../train/checkpoint';
import { folderFiles, TINY_SD } from './model-fixtures';

export function jobContext(onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal): JobContext {
  return { signal, progress: onProgress };
}

/** Loads the tiny fixture as a dropped folder into `engine` (started if need be). */
export async function loadTinyModel(engine: Engine): Promise<void> {
  await engine.init();
  const { files, paths } = folderFiles(TINY_SD);
  await engine.loadModel({ model: { kind: 'local', files, paths } }, jobContext());
}

export async function engineWithTinyModel(store = new MemoryCheckpointStore(), onEvent: (e: EngineEvent) => void = () => {}): Promise<Engine> {
  const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
  const engine = new Engine(gpu, onEvent, async () => new MemoryCache(), store);
  await loadTinyModel(engine);
  return engine;
}
