/**
 * The studio's UI state (zustand), in slices. Actions are plain module functions; the engine
 * is reached only through its client, and nothing here imports tfjs.
 */
import { create } from 'zustand';
import { startEngineWorker, type EngineClient } from '../engine/client';
import type { SerializedError } from '../engine/errors';
import type { GpuCapabilities } from '../engine/gpu';
import type { EngineEvent, EngineMemory } from '../engine/protocol';

export const SECTIONS = ['library', 'new-concept', 'generate', 'gallery', 'models'] as const;
export type Section = (typeof SECTIONS)[number];

export type EngineStatus =
  | { state: 'starting' }
  | { state: 'ready'; capabilities: GpuCapabilities }
  | { state: 'unavailable'; error: SerializedError }
  | { state: 'failed'; error: SerializedError }
  | { state: 'lost'; event: EngineEvent };

interface StudioState {
  section: Section;
  engine: EngineStatus;
  memory: EngineMemory | null;
}

export const useStudio = create<StudioState>(() => ({ section: 'library', engine: { state: 'starting' }, memory: null }));

let client: EngineClient | null = null;

export function showSection(section: Section): void {
  useStudio.setState({ section });
}

/** Starts (or restarts, in a fresh worker) the engine and records what the GPU offers. */
export async function startEngine(): Promise<void> {
  client?.terminate();
  const engine = startEngineWorker();
  client = engine;
  useStudio.setState({ engine: { state: 'starting' }, memory: null });
  engine.onEvent((event) => {
    if (event.type === 'device-lost' && client === engine) useStudio.setState({ engine: { state: 'lost', event }, memory: null });
  });
  try {
    const capabilities = await engine.request('init', {});
    if (client !== engine) return;
    useStudio.setState({ engine: { state: 'ready', capabilities } });
    await refreshMemory();
  } catch (e) {
    if (client !== engine) return;
    const error = (e as { toJSON?: () => SerializedError }).toJSON?.() ?? { name: 'InternalError' as const, message: String(e) };
    const unavailable = error.name === 'WebGpuUnavailable' || error.name === 'AdapterUnavailable';
    useStudio.setState({ engine: unavailable ? { state: 'unavailable', error } : { state: 'failed', error } });
  }
}

/** Frees the GPU for other tabs and apps; the engine reports the loss like any other. */
export async function releaseGpu(): Promise<void> {
  await client?.request('releaseDevice', {});
}

export async function refreshMemory(): Promise<void> {
  if (!client || useStudio.getState().engine.state !== 'ready') return;
  try {
    useStudio.setState({ memory: await client.request('memory', {}) });
  } catch {
    // The device went away meanwhile; the lost event tells the user.
  }
}
