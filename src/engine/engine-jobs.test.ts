import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { Engine } from './engine';
import type { JobContext, Progress } from './protocol';
import { MemoryCache } from '../model/sources/cache';
import { startHubServer, TEST_COMMIT, type HubServer } from '../test/hub-server';
import { folderFiles } from '../test/model-fixtures';

const FIXTURE = resolve(__dirname, '../test/fixtures/tiny-sd');
const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;

function context(signal = new AbortController().signal): JobContext & { events: Progress[] } {
  const events: Progress[] = [];
  return { events, signal, progress: (p) => events.push(p) };
}

describe('Engine jobs: load a model from a hub, generate, cancel', () => {
  let hub: HubServer;
  let engine: Engine;
  const cache = new MemoryCache();

  beforeAll(async () => {
    hub = await startHubServer(FIXTURE, 'fixtures/tiny-sd', 'main');
    engine = new Engine(gpu, () => {}, async () => cache);
    await engine.init();
  });
  afterAll(async () => {
    await hub.close();
  });

  it('refuses to generate before a model is loaded', async () => {
    await expect(engine.generate({ prompt: 'a cat' }, context())).rejects.toMatchObject({ name: 'NoModel' });
  });

  it('loads the model with monotonic progress, then lists it as cached', async () => {
    const ctx = context();
    const info = await engine.loadModel({ model: { kind: 'hub', repo: 'fixtures/tiny-sd', endpoint: hub.baseUrl } }, ctx);
    expect(info).toMatchObject({ id: `hf:${new URL(hub.baseUrl).host}/fixtures/tiny-sd@${TEST_COMMIT}`, name: 'fixtures/tiny-sd', card: { title: 'fixtures/tiny-sd' } });
    expect(info.imageSize).toBe(256);
    expect(info.bytes).toBeGreaterThan(10_000_000);
    const fractions = ctx.events.map((e) => e.fraction).filter((f): f is number => f !== null);
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);
    expect(fractions.at(-1)).toBeCloseTo(1, 5);
    const cached = await engine.cachedModels();
    expect(cached).toEqual([expect.objectContaining({ repo: 'fixtures/tiny-sd', revision: 'main' })]);
    expect(cached[0].bytes).toBeGreaterThan(14_000_000);
  });

  it('generates deterministic images per seed with per-step progress and previews, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const options = { prompt: 'a photo of a cat', steps: 3, width: 64, height: 64, seed: 1234, guidanceScale: 5 };
    const ctx = context();
    const a = await engine.generate(options, ctx);
    const b = await engine.generate(options, context());
    const c = await engine.generate({ ...options, seed: 99, sampler: 'euler' }, context());
    expect(tf.memory().numTensors).toBe(before);
    expect(ctx.events.map((e) => e.label)).toEqual(['Step 1/3', 'Step 2/3', 'Step 3/3']);
    expect(ctx.events[0].preview).toMatchObject({ width: 8, height: 8 });
    expect(a.images).toHaveLength(1);
    expect(a.images[0]).toMatchObject({ width: 64, height: 64 });
    expect(a.images[0].data.length).toBe(64 * 64 * 4);
    expect(a.images[0].data).toEqual(b.images[0].data);
    expect(c.images[0].data).not.toEqual(a.images[0].data);
    const distinct = new Set(a.images[0].data.filter((_, i) => i % 4 === 0));
    expect(distinct.size).toBeGreaterThan(10); // an image, not a flat fill
    const batch = await engine.generate({ ...options, batch: 2, seed: 1233 }, context());
    expect(batch.images).toHaveLength(2);
    // Image i of a batch starts from seed + i: the same image up to float rounding of batched math.
    const diffs = batch.images[1].data.map((v, i) => Math.abs(v - a.images[0].data[i]));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2);
    const other = batch.images[0].data.map((v, i) => Math.abs(v - a.images[0].data[i]));
    expect(Math.max(...other)).toBeGreaterThan(20);
    // Several prompts in one batch: each prompt's images are the ones it gets alone, on the same seeds.
    const pair = await engine.generate({ ...options, prompts: [options.prompt, 'a red circle'], batch: 2, seed: 1233 }, context());
    const alone = await engine.generate({ ...options, prompt: 'a red circle', batch: 2, seed: 1233 }, context());
    expect(pair.images).toHaveLength(4);
    const maxDiff = (x: Uint8ClampedArray, y: Uint8ClampedArray) => Math.max(...x.map((v, i) => Math.abs(v - y[i])));
    [batch.images[0], batch.images[1], alone.images[0], alone.images[1]].forEach((image, i) => expect(maxDiff(pair.images[i].data, image.data)).toBeLessThanOrEqual(2));
    expect(maxDiff(pair.images[0].data, pair.images[2].data)).toBeGreaterThan(2); // the prompts differ, beyond rounding
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports a prompt longer than 77 tokens as truncated', async () => {
    const result = await engine.generate({ prompt: 'a very long prompt '.repeat(30), steps: 1, width: 64, height: 64, seed: 1 }, context());
    expect(result.droppedTokenCount).toBeGreaterThan(0);
    expect(result.droppedText).toMatch(/long prompt/);
  });

  it('cancels a generation and stays usable', async () => {
    const controller = new AbortController();
    const ctx: JobContext = { signal: controller.signal, progress: (p) => p.label === 'Step 1/20' && controller.abort() };
    await expect(engine.generate({ prompt: 'a cat', steps: 20, width: 64, height: 64, seed: 1 }, ctx)).rejects.toMatchObject({ name: 'Cancelled' });
    const ok = await engine.generate({ prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 1 }, context());
    expect(ok.images).toHaveLength(1);
  });

  it('rejects sizes that are not multiples of 8 with a message', async () => {
    await expect(engine.generate({ prompt: 'a cat', width: 60, height: 64 }, context())).rejects.toThrow(/multiples of 8/);
  });

  it('a second load of the same model makes no network request', async () => {
    const requests = hub.requests.length;
    await engine.loadModel({ model: { kind: 'hub', repo: 'fixtures/tiny-sd', endpoint: hub.baseUrl } }, context());
    expect(hub.requests.length).toBe(requests);
  });

  it('loads a dropped folder (files with their paths) and generates from it', async () => {
    const { files, paths } = folderFiles(FIXTURE, 'tiny-sd/');
    const info = await engine.loadModel({ model: { kind: 'local', files, paths } }, context());
    expect(info).toMatchObject({ id: expect.stringMatching(/^local:tiny-sd#[0-9a-f]{12}$/), name: 'tiny-sd', card: { title: 'tiny-sd' } });
    const ok = await engine.generate({ prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 3 }, context());
    expect(ok.images).toHaveLength(1);
  });

  it('a missing model gives a clear error, loads nothing and keeps the current model', async () => {
    const before = tf.memory().numTensors;
    await expect(engine.loadModel({ model: { kind: 'hub', repo: 'fixtures/missing', endpoint: hub.baseUrl } }, context())).rejects.toMatchObject({
      name: 'ModelLoadFailed',
      message: expect.stringMatching(/model_index\.json|not found|missing/i),
    });
    expect(tf.memory().numTensors).toBe(before);
    const ok = await engine.generate({ prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 1 }, context());
    expect(ok.images).toHaveLength(1);
  });
});
