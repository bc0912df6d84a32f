import { afterEach, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheStorageCache, MemoryCache, cacheKey, deleteCachedModel, listCachedModels, type ModelCache } from './cache';
import { HubSource } from './hub';
import { loadPipelineFiles, loadedJson, sdPipelineFiles, type LoadEvent } from './pipeline-files';
import { RECOMMENDED_MODELS } from './recommended';
import { startHubServer, TEST_COMMIT, type HubServer } from '../../test/hub-server';
import { ModelSourceError } from './types';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tiny-sd/', import.meta.url));
const REPO = 'test/tiny-sd';
const UNET = 'unet/diffusion_pytorch_model.safetensors';
const FIXTURE_FILES = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'text_encoder/config.json',
  'text_encoder/model.safetensors',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'tokenizer/tokenizer_config.json',
  'tokenizer/special_tokens_map.json',
  'unet/config.json',
  UNET,
  'vae/config.json',
  'vae/diffusion_pytorch_model.safetensors',
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(root = FIXTURE, revision = 'main'): Promise<HubServer> {
  const server = await startHubServer(root, REPO, revision);
  cleanups.push(() => server.close());
  return server;
}

function hub(server: HubServer, cache: ModelCache | null, revision = 'main') {
  return new HubSource({ repo: REPO, revision, baseUrl: server.baseUrl, cache, retryDelayMs: 1, progressIntervalMs: 0 });
}

async function load(source: HubSource) {
  const events: LoadEvent[] = [];
  const result = await loadPipelineFiles(source, { onEvent: (e) => events.push(e) });
  return { ...result, events };
}

const gets = (server: HubServer) => server.requests.filter((r) => r.method === 'GET');

/** Per file: initiate → [download] → progress… → done, in order, then one ready. */
function expectLifecycle(events: LoadEvent[], files: string[], totalBytes: number) {
  expect(events.at(-1)).toMatchObject({ status: 'ready', files: files.length, bytes: totalBytes });
  const perFile = events.slice(0, -1);
  const order: string[] = [];
  let lastOverall = -1;
  for (const [i, e] of perFile.entries()) {
    if (e.status === 'ready') throw new Error('ready before the end');
    if (e.status === 'initiate') {
      expect(i === 0 || perFile[i - 1].status === 'done').toBe(true);
      order.push(e.file);
      continue;
    }
    expect(e.file).toBe(order.at(-1));
    if (e.status === 'download') expect(perFile[i - 1].status).toBe('initiate');
    if (e.status === 'progress') {
      expect(e.overall.loaded).toBeGreaterThan(lastOverall);
      lastOverall = e.overall.loaded;
      if (perFile[i - 1].status === 'progress') expect(e.loaded).toBeGreaterThan((perFile[i - 1] as { loaded: number }).loaded);
    }
    if (e.status === 'done') {
      const last = perFile[i - 1];
      expect(last.status).toBe('progress');
      expect(last).toMatchObject({ loaded: e.size, total: e.size });
    }
  }
  expect(order).toEqual(files);
  const lastProgress = perFile.filter((e) => e.status === 'progress').at(-1)!;
  expect(lastProgress.status === 'progress' && lastProgress.overall).toEqual({ loaded: totalBytes, total: totalBytes });
}

async function fixtureSize(paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += (await readFile(FIXTURE + p)).length;
  return total;
}

describe('HubSource + loadPipelineFiles', () => {
  it('downloads every pipeline file with the lifecycle events, falling back from the fp16 variants', async () => {
    const server = await serve();
    const cache = new MemoryCache();
    const source = hub(server, cache);
    const { files, events, model } = await load(source);
    expect(model).toBe(REPO);
    expect(source.id).toBe(`hf:${new URL(server.baseUrl).host}/${REPO}@${TEST_COMMIT}`);

    expect([...files.keys()].sort()).toEqual([...FIXTURE_FILES].sort());
    for (const [key, file] of files) {
      expect(file.path).toBe(key); // the fixture has no .fp16 files
      expect(Buffer.from(await file.blob.arrayBuffer()).equals(await readFile(FIXTURE + key)), key).toBe(true);
    }
    expect(await loadedJson<{ _class_name: string }>(files.get('unet/config.json')!)).toMatchObject({ _class_name: 'UNet2DConditionModel' });

    // fp16 variants were asked for first (HEAD 404), then the plain weights.
    const heads = server.requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
    expect(heads).toContain('unet/diffusion_pytorch_model.fp16.safetensors');
    expect(heads).toContain('text_encoder/model.fp16.safetensors');
    expect(gets(server).map((r) => r.path).sort()).toEqual([...FIXTURE_FILES].sort());

    // model_index.json first, then the files in pipeline order.
    const total = await fixtureSize(FIXTURE_FILES);
    const order = sdPipelineFiles().map((s) => s.key).filter((k) => FIXTURE_FILES.includes(k));
    expectLifecycle(events, order, total);
    expect(events.filter((e) => e.status === 'download')).toHaveLength(FIXTURE_FILES.length);
    expect(events.find((e) => e.status === 'download' && e.file === UNET)).toMatchObject({ url: `${server.baseUrl}/${REPO}/resolve/main/${UNET}` });
    expect(events.filter((e) => e.status === 'done').every((e) => e.status === 'done' && e.fromNetwork && !e.cacheError)).toBe(true);
    // Sizes known from the HEAD requests before the first byte.
    expect(events.find((e) => e.status === 'progress')).toMatchObject({ overall: { total } });
  });

  it('a second load of the same repo and revision makes no request', async () => {
    const server = await serve();
    const cache = new MemoryCache();
    await load(hub(server, cache));
    const requests = server.requests.length;

    const { files, events } = await load(hub(server, cache));
    expect(server.requests.length).toBe(requests);
    expect(files.size).toBe(FIXTURE_FILES.length);
    expect(events.some((e) => e.status === 'download')).toBe(false);
    expect(events.filter((e) => e.status === 'done').every((e) => e.status === 'done' && !e.fromNetwork)).toBe(true);
    const order = sdPipelineFiles().map((s) => s.key).filter((k) => FIXTURE_FILES.includes(k));
    expectLifecycle(events, order, await fixtureSize(FIXTURE_FILES));

    // Another revision is another model.
    await expect(load(hub(server, cache, 'v2'))).rejects.toThrow(/missing model_index.json/);
  });

  it('prefers the fp16 weights when the repo has them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tiny-sd-fp16-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await cp(FIXTURE, root, { recursive: true });
    await cp(join(root, UNET), join(root, 'unet/diffusion_pytorch_model.fp16.safetensors'));
    const server = await serve(root);

    const { files } = await load(hub(server, new MemoryCache()));
    expect(files.get(UNET)!.path).toBe('unet/diffusion_pytorch_model.fp16.safetensors');
    expect(files.get('vae/diffusion_pytorch_model.safetensors')!.path).toBe('vae/diffusion_pytorch_model.safetensors');
    expect(gets(server).map((r) => r.path)).not.toContain(UNET);
    expect(gets(server).map((r) => r.path)).toContain('unet/diffusion_pytorch_model.fp16.safetensors');
  });

  it('servers that refuse HEAD are probed with a one-byte GET', async () => {
    const server = await serve();
    server.refuseHead = true;
    const events: LoadEvent[] = [];
    const { files } = await loadPipelineFiles(hub(server, null), { onEvent: (e) => events.push(e) });
    expect(files.get(UNET)!.path).toBe(UNET);
    const probes = server.requests.filter((r) => r.method === 'GET' && r.range === 'bytes=0-0').map((r) => r.path);
    expect(probes).toContain('unet/diffusion_pytorch_model.fp16.safetensors');
    expect(events.find((e) => e.status === 'progress')).toMatchObject({ overall: { total: await fixtureSize(FIXTURE_FILES) } });
  });

  it('a missing required file fails before any weight is downloaded, naming the file', async () => {
    const server = await serve();
    server.notFound.add('vae/config.json');
    const cache = new MemoryCache();
    const error = await load(hub(server, cache)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSourceError);
    expect(error).toMatchObject({ reason: 'not-found', file: 'vae/config.json' });
    expect((error as Error).message).toBe(`${REPO} is missing vae/config.json, which a Stable Diffusion pipeline needs.`);
    expect(gets(server)).toHaveLength(0);

    // The 404 was remembered, but a required file is asked for again: a transient 404 heals.
    server.notFound.clear();
    const { files } = await load(hub(server, cache));
    expect(files.get('vae/config.json')!.blob.size).toBeGreaterThan(0);
  });

  it('missing weights name both variants tried', async () => {
    const server = await serve();
    server.notFound.add(UNET);
    await expect(load(hub(server, null))).rejects.toThrow(
      `missing ${UNET} (tried unet/diffusion_pytorch_model.fp16.safetensors, ${UNET})`,
    );
  });

  it('resumes a dropped connection and caches only complete files', async () => {
    const server = await serve();
    server.drop(UNET, 1);
    const cache = new MemoryCache();
    const { files, events } = await load(hub(server, cache));
    expect(Buffer.from(await files.get(UNET)!.blob.arrayBuffer()).equals(await readFile(FIXTURE + UNET))).toBe(true);
    expect(gets(server).filter((r) => r.path === UNET).map((r) => r.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    expectLifecycle(events, sdPipelineFiles().map((s) => s.key).filter((k) => FIXTURE_FILES.includes(k)), await fixtureSize(FIXTURE_FILES));
    expect((await cache.match(cacheKey(server.baseUrl, REPO, 'main', UNET)))!.size).toBe((await readFile(FIXTURE + UNET)).length);
  });

  it('a failed download caches nothing of that file; the next load fetches it again', async () => {
    const server = await serve();
    server.drop(UNET, 1000, 1000);
    server.ignoreRanges = true;
    const cache = new MemoryCache();
    const source = new HubSource({ repo: REPO, baseUrl: server.baseUrl, cache, retries: 1, retryDelayMs: 1 });
    const error = await loadPipelineFiles(source).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DownloadFailed', message: expect.stringMatching(`^${UNET} of ${REPO}@main from ${server.baseUrl}: .*\\(tried 2 times\\)\\.$`) });
    const keys = await cache.keys();
    expect(keys).not.toContain(cacheKey(server.baseUrl, REPO, 'main', UNET));
    expect(keys).toContain(cacheKey(server.baseUrl, REPO, 'main', 'unet/config.json'));

    server.drop(UNET, 0);
    const before = gets(server).length;
    const { files } = await loadPipelineFiles(new HubSource({ repo: REPO, baseUrl: server.baseUrl, cache }));
    expect(files.get(UNET)!.blob.size).toBe((await readFile(FIXTURE + UNET)).length);
    // Only the files not cached yet (the UNet weights and the VAE after it) were fetched.
    expect(gets(server).slice(before).map((r) => r.path).sort()).toEqual([UNET, 'vae/config.json', 'vae/diffusion_pytorch_model.safetensors']);
  });

  it('a broken file (truncated safetensors served whole) is refused and not cached', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tiny-sd-broken-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await cp(FIXTURE, root, { recursive: true });
    const vae = 'vae/diffusion_pytorch_model.safetensors';
    const bytes = await readFile(join(root, vae));
    await import('node:fs/promises').then((fs) => fs.writeFile(join(root, vae), bytes.subarray(0, bytes.length - 100)));
    const server = await serve(root);
    const cache = new MemoryCache();
    const error = await load(hub(server, cache)).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'invalid', file: vae });
    expect((error as Error).message).toMatch(/vae\/diffusion_pytorch_model.safetensors of test\/tiny-sd@main arrived broken: .*out of range/);
    expect(await cache.keys()).not.toContain(cacheKey(server.baseUrl, REPO, 'main', vae));
  });

  it('a full cache is reported per file and the load still succeeds', async () => {
    const server = await serve();
    const cache = new MemoryCache(3_000_000);
    const { files, events } = await load(hub(server, cache));
    expect(files.size).toBe(FIXTURE_FILES.length);
    const uncached = events.filter((e) => e.status === 'done' && e.cacheError);
    expect(uncached.map((e) => e.status === 'done' && e.file)).toEqual(['text_encoder/model.safetensors', UNET]);
    expect(uncached[0]).toMatchObject({ cacheError: expect.stringMatching(/was not cached: the browser storage quota is full/) });
    expect(await cache.keys()).toContain(cacheKey(server.baseUrl, REPO, 'main', 'vae/diffusion_pytorch_model.safetensors'));
  });

  it('lists cached models with their sizes and deletes one', async () => {
    const server = await serve();
    const cache = new MemoryCache();
    await load(hub(server, cache));
    await cache.put(cacheKey('https://mirror.example', 'other/model', 'v1', 'model_index.json'), new Blob(['{}']));
    await cache.put(`models/${encodeURIComponent(REPO)}/main/model_index.json`, new Blob(['{"old":1}'])); // kept by an older studio
    const endpoint = server.baseUrl;
    expect(await listCachedModels(cache)).toEqual([
      { endpoint, repo: REPO, revision: 'main', files: FIXTURE_FILES.length, bytes: await fixtureSize(FIXTURE_FILES) },
      { endpoint: null, repo: REPO, revision: 'main', files: 1, bytes: 9 },
      { endpoint: 'https://mirror.example', repo: 'other/model', revision: 'v1', files: 1, bytes: 2 },
    ]);
    expect(await deleteCachedModel(cache, { endpoint, repo: REPO, revision: 'main' })).toBeGreaterThanOrEqual(FIXTURE_FILES.length);
    expect(await deleteCachedModel(cache, { endpoint: null, repo: REPO, revision: 'main' })).toBe(1);
    expect(await listCachedModels(cache)).toEqual([{ endpoint: 'https://mirror.example', repo: 'other/model', revision: 'v1', files: 1, bytes: 2 }]);
    // an ONNX feature model (Evaluate's CLIP / DINOv2) is told apart from the diffusion models
    await cache.put(cacheKey('https://mirror.example', 'Xenova/dinov2-small', 'main', 'onnx/model.onnx'), new Blob(['onnx']));
    await cache.put(cacheKey('https://mirror.example', 'Xenova/dinov2-small', 'main', 'config.json'), new Blob(['{}']));
    expect(await listCachedModels(cache)).toEqual([
      { endpoint: 'https://mirror.example', repo: 'Xenova/dinov2-small', revision: 'main', files: 2, bytes: 6, feature: true },
      { endpoint: 'https://mirror.example', repo: 'other/model', revision: 'v1', files: 1, bytes: 2 },
    ]);
  });

  it('its id names the endpoint and the commit the hub said, also when read back from the cache', async () => {
    const server = await serve();
    const host = new URL(server.baseUrl).host;
    const cache = new MemoryCache();
    const first = hub(server, cache);
    expect(first.id).toBe(`hf:${host}/${REPO}@main`); // nothing asked yet
    await load(first);
    expect(first.id).toBe(`hf:${host}/${REPO}@${TEST_COMMIT}`);
    expect(first.name).toBe(REPO);

    const requests = server.requests.length;
    const again = hub(server, cache);
    await load(again);
    expect(server.requests.length).toBe(requests);
    expect(again.id).toBe(first.id);

    // A hub that names no commit: the revision asked for.
    server.commit = undefined;
    const plain = hub(server, null);
    await load(plain);
    expect(plain.id).toBe(`hf:${host}/${REPO}@main`);
    // huggingface.co is not named; a commit asked for is the id at once.
    expect(new HubSource({ repo: 'a/b', cache: null }).id).toBe('hf:a/b@main');
    expect(new HubSource({ repo: 'a/b', revision: TEST_COMMIT, cache: null }).id).toBe(`hf:a/b@${TEST_COMMIT}`);
    expect(new HubSource({ repo: 'a/b', revision: 'v2', cache: null }).name).toBe('a/b@v2');
  });

  it('refuses what is not a repo id', () => {
    expect(() => new HubSource({ repo: '../etc', cache: null })).toThrow(/not a Hugging Face repo id/);
    expect(new HubSource({ repo: 'a/b', revision: 'refs/pr/1', cache: null }).url('unet/config.json')).toBe(
      'https://huggingface.co/a/b/resolve/refs%2Fpr%2F1/unet/config.json',
    );
  });

  it('recommends SD 1.x-family models', () => {
    expect(RECOMMENDED_MODELS.map((m) => m.repo)).toEqual([
      'stable-diffusion-v1-5/stable-diffusion-v1-5',
      'nota-ai/bk-sdm-small',
      'nota-ai/bk-sdm-tiny',
      'segmind/small-sd',
      'segmind/tiny-sd',
    ]);
    for (const m of RECOMMENDED_MODELS) expect(() => new HubSource({ repo: m.repo, cache: null })).not.toThrow();
  });
});

describe('HubSource: nothing bad gets in, nothing good gets lost', () => {
  const MERGES = 'tokenizer/merges.txt';
  const VOCAB = 'tokenizer/vocab.json';
  // Deadlines short enough for stalls to end soon, long enough for a loaded machine to answer.
  const quick = { connectTimeoutMs: 1000, idleTimeoutMs: 1000, retryDelayMs: 1, progressIntervalMs: 0 };
  const source = (server: HubServer, cache: ModelCache | null, extra: Partial<ConstructorParameters<typeof HubSource>[0]> = {}) =>
    new HubSource({ repo: REPO, baseUrl: server.baseUrl, cache, ...quick, ...extra });
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('it should fail'), (e: unknown) => e as Error & { hint?: string });
  const cachedBytes = async (cache: ModelCache, server: HubServer, path: string) => {
    const blob = await cache.match(cacheKey(server.baseUrl, REPO, 'main', path));
    return blob && Buffer.from(await blob.arrayBuffer());
  };

  it('the cache key includes the endpoint: the same repo on another endpoint gets its requests', async () => {
    const first = await serve();
    const second = await serve();
    const cache = new MemoryCache();
    await loadPipelineFiles(source(first, cache));
    const { files } = await loadPipelineFiles(source(second, cache));
    expect(files.size).toBe(FIXTURE_FILES.length);
    expect(gets(second).map((r) => r.path).sort()).toEqual([...FIXTURE_FILES].sort());
    const before = first.requests.length;
    await loadPipelineFiles(source(first, cache));
    expect(first.requests.length).toBe(before); // each endpoint's files stay its own
  });

  it('a merges.txt whose body ends short is resumed, and only the whole file is cached', async () => {
    const server = await serve();
    server.short(MERGES, 1);
    const cache = new MemoryCache();
    const { files } = await loadPipelineFiles(source(server, cache));
    const expected = await readFile(FIXTURE + MERGES);
    expect(Buffer.from(await files.get(MERGES)!.blob.arrayBuffer()).equals(expected)).toBe(true);
    expect((await cachedBytes(cache, server, MERGES))!.equals(expected)).toBe(true);
    expect(gets(server).filter((r) => r.path === MERGES)).toHaveLength(2);
  });

  it('a merges.txt that always ends short fails with DownloadFailed and nothing of it is cached', async () => {
    const server = await serve();
    server.short(MERGES, 100);
    server.ignoreRanges = true;
    const cache = new MemoryCache();
    const error = await failure(loadPipelineFiles(source(server, cache)));
    expect(error.name).toBe('DownloadFailed');
    expect(error.message).toMatch(new RegExp(`^${MERGES} of ${REPO}@main from ${server.baseUrl}: the body ended after \\d+ of \\d+ bytes \\(tried 3 times\\)\\.$`));
    expect(error.hint).toMatch(/connection/);
    expect(await cachedBytes(cache, server, MERGES)).toBeUndefined();
  });

  it('an HTML page served with 200 for merges.txt is refused and not cached', async () => {
    const server = await serve();
    server.html.add(MERGES);
    const cache = new MemoryCache();
    const error = await failure(loadPipelineFiles(source(server, cache)));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: expect.stringMatching(/merges\.txt of .* sent a web page \(text\/html\) instead of the file; nothing was kept\.$/) });
    expect(await cachedBytes(cache, server, MERGES)).toBeUndefined();
  });

  it('an endless config body stops at the 1 MB cap of configs and is not cached', async () => {
    const server = await serve();
    server.endless.add('unet/config.json');
    const cache = new MemoryCache();
    const error = await failure(source(server, cache).file('unet/config.json'));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: expect.stringMatching(/sent more than the 1048576 bytes such a file may have/) });
    expect(await cachedBytes(cache, server, 'unet/config.json')).toBeUndefined();
  });

  it('an LFS file whose sha256 is not the announced one is refused and not cached', async () => {
    const server = await serve();
    server.wrongSha.add(UNET);
    const cache = new MemoryCache();
    const error = await failure(loadPipelineFiles(source(server, cache)));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: expect.stringMatching(new RegExp(`^${UNET} of .*: its sha256 is [0-9a-f]{64}, the hub says [0-9a-f]{64}; nothing was kept\\.$`)) });
    expect(await cachedBytes(cache, server, UNET)).toBeUndefined();
    expect(await cachedBytes(cache, server, 'text_encoder/model.safetensors')).toBeDefined(); // its sha256 was right
  });

  it('a hub that accepts and never answers ends the load with DownloadFailed', async () => {
    const server = await serve();
    server.stall('model_index.json', 'headers');
    const error = await failure(loadPipelineFiles(source(server, null, { connectTimeoutMs: 200 })));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: `model_index.json of ${REPO}@main from ${server.baseUrl}: no answer for 0.2 s (tried 3 times).` });
    expect(server.requests.filter((r) => r.path === 'model_index.json')).toHaveLength(3);
  });

  it('a corrupt cached file (bad JSON, wrong size) is deleted and downloaded again', async () => {
    const server = await serve();
    const cache = new MemoryCache();
    await loadPipelineFiles(source(server, cache));
    const vocab = await readFile(FIXTURE + VOCAB);
    await cache.put(cacheKey(server.baseUrl, REPO, 'main', VOCAB), new Blob([Buffer.alloc(vocab.length, '{')])); // same size, not JSON
    const unet = (await cache.match(cacheKey(server.baseUrl, REPO, 'main', UNET)))!;
    await cache.put(cacheKey(server.baseUrl, REPO, 'main', UNET), unet.slice(0, unet.size - 1000)); // cut short
    const before = gets(server).length;

    const { files } = await loadPipelineFiles(source(server, cache));
    expect(gets(server).slice(before).map((r) => r.path).sort()).toEqual([VOCAB, UNET].sort());
    expect(Buffer.from(await files.get(VOCAB)!.blob.arrayBuffer()).equals(vocab)).toBe(true);
    expect((await cachedBytes(cache, server, VOCAB))!.equals(vocab)).toBe(true);
    expect((await cachedBytes(cache, server, UNET))!.equals(await readFile(FIXTURE + UNET))).toBe(true);
  });
});

describe.skipIf(typeof globalThis.caches === 'undefined')('CacheStorageCache (browsers only)', () => {
  it('stores, lists and deletes whole files', async () => {
    const cache = await CacheStorageCache.open(globalThis.caches, 'diffusion-studio-test');
    const key = cacheKey('https://huggingface.co', 'a/b', 'main', 'unet/config.json');
    await cache.put(key, new Blob(['{"x":1}']));
    expect(await (await cache.match(key))!.text()).toBe('{"x":1}');
    expect(await cache.keys()).toContain(key);
    expect(await cache.delete(key)).toBe(true);
    expect(await cache.match(key)).toBeUndefined();
    await globalThis.caches.delete('diffusion-studio-test');
  });
});
