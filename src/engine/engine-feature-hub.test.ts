import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { jobContext, loadTinyModel } from '../test/engine';
import type { FeatureModelSource } from './protocol';
import { MemoryCache } from '../model/sources/cache';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { FEATURE_FILES } from './feature-sources';
import { openSessions } from '../features/feature-models';
import { CLIP_TINY, DINO_TINY, goldenImages, startFeatureHub } from '../test/feature-fixtures';

const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
const bytesOf = (root: string, paths: readonly string[]) => paths.reduce((s, p) => s + statSync(join(root, p)).size, 0);

describe('Engine: feature models from the hub, kept in the model cache', () => {
  let hub: Awaited<ReturnType<typeof startFeatureHub>>;
  let engine: Engine;
  let source: FeatureModelSource;
  const cache = new MemoryCache();
  const urls: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    hub = await startFeatureHub();
    source = { kind: 'hub', endpoint: hub.endpoint, clip: hub.clip, dino: hub.dino };
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return realFetch(input, init);
    }) as typeof fetch;
    engine = new Engine(gpu, () => {}, async () => cache, new MemoryCheckpointStore());
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await hub?.close();
  });

  const gets = () => hub.requests().filter((r) => r.method === 'GET');

  it('tells sizes before any download, with HEAD requests only', async () => {
    const status = await engine.featureModels({ source }, jobContext());
    expect(status).toEqual([
      { role: 'clip', repo: hub.clip, bytes: bytesOf(CLIP_TINY, FEATURE_FILES.clip), cached: false },
      { role: 'dino', repo: hub.dino, bytes: bytesOf(DINO_TINY, FEATURE_FILES.dino), cached: false },
    ]);
    expect(gets()).toEqual([]);
  });

  it('suggests nothing from a model not downloaded unless asked to download', async () => {
    await expect(engine.suggestClassWords({ photos: goldenImages(), source }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest' });
    expect(gets()).toEqual([]);
    const s = await engine.suggestClassWords({ photos: goldenImages(), source, download: true }, jobContext());
    expect(s.classes).toHaveLength(3);
    expect(gets().map((r) => r.path).sort()).toEqual([...FEATURE_FILES.clip].sort());
    expect(openSessions()).toBe(0);
  });

  it('reads cached models without a single request, and lists them with the cached models', async () => {
    const before = hub.clipRequests().length;
    const status = await engine.featureModels({ source }, jobContext());
    expect(status.map((s) => s.cached)).toEqual([true, false]);
    await engine.suggestClassWords({ photos: goldenImages(), source }, jobContext());
    expect(hub.clipRequests().slice(before)).toEqual([]);
    expect((await engine.cachedModels()).map((m) => m.repo)).toContain(hub.clip);
  });

  it('refuses an evaluation it cannot run before downloading anything', async () => {
    const before = hub.requests().length;
    const concept = { token: '<x>', classWord: '', embedding: { nVectors: 1, dim: 32, vectors: new Float32Array(32) }, lora: null, loraStrength: 1 };
    await loadTinyModel(engine);
    await expect(engine.evaluateConcept({ concept, photos: goldenImages(), source }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest' });
    expect(hub.requests().slice(before)).toEqual([]);
  });

  it('deletes them, answering the bytes freed', async () => {
    const freed = await engine.deleteFeatureModels({ source });
    expect(freed).toBe(bytesOf(CLIP_TINY, FEATURE_FILES.clip));
    expect((await engine.featureModels({ source }, jobContext())).map((s) => s.cached)).toEqual([false, false]);
    expect(await engine.cachedModels()).toEqual([]);
  });

  it('no request left 127.0.0.1', () => {
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.filter((u) => !u.startsWith('http://127.0.0.1:'))).toEqual([]);
  });
});
