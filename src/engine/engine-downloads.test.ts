import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine } from './engine';
import { MemoryCache } from '../model/sources/cache';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { jobContext, loadTinyModel } from '../test/engine';
import { startHubServer, type HubServer } from '../test/hub-server';

const FIXTURE = resolve(__dirname, '../test/fixtures/tiny-sd');
const REPO = 'fixtures/tiny-sd';
const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
const small = { prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 1 };

describe('Engine: a stalled download neither hangs the load nor blocks the jobs behind it', () => {
  let hub: HubServer;
  let engine: Engine;
  let loaded: string | undefined;

  beforeAll(async () => {
    hub = await startHubServer(FIXTURE, REPO, 'main');
    // Headers must come within 0.2 s; a body may pause for a minute (the cancel test stops it first).
    engine = new Engine(gpu, () => {}, async () => new MemoryCache(), new MemoryCheckpointStore(), undefined, { connectTimeoutMs: 200, idleTimeoutMs: 60_000, retryDelayMs: 1 });
    await loadTinyModel(engine);
    loaded = engine.modelInfo()?.id;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('a hub that never answers ends the load with DownloadFailed, and a generation queued behind it runs', async () => {
    hub.stall('text_encoder/config.json', 'headers');
    const load = engine.loadModel({ model: { kind: 'hub', repo: REPO, endpoint: hub.baseUrl } }, jobContext());
    const generation = engine.generate(small, jobContext());
    await expect(load).rejects.toMatchObject({
      name: 'DownloadFailed',
      message: `text_encoder/config.json of ${REPO}@main from ${hub.baseUrl}: no answer for 0.2 s (tried 3 times).`,
      hint: expect.stringMatching(/connection/),
    });
    expect((await generation).images).toHaveLength(1);
    expect(engine.modelInfo()?.id).toBe(loaded); // the model before stays loaded
  });

  it('a load stalled mid-body is cancelled, and a generation queued behind it runs', async () => {
    hub.stall('text_encoder/config.json', 'body', 1, 10);
    const controller = new AbortController();
    const load = engine.loadModel({ model: { kind: 'hub', repo: REPO, endpoint: hub.baseUrl } }, jobContext(() => {}, controller.signal));
    const generation = engine.generate(small, jobContext());
    const asked = hub.requests.length;
    await vi.waitFor(() => expect(hub.requests.slice(asked).some((r) => r.path === 'text_encoder/config.json')).toBe(true), { timeout: 30_000 });
    controller.abort();
    await expect(load).rejects.toMatchObject({ name: 'Cancelled' });
    expect((await generation).images).toHaveLength(1);
    expect(engine.modelInfo()?.id).toBe(loaded);
  });
});
