import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { download, probe } from './http';
import { ModelSourceError } from './types';
import { StudioError } from '../../common/errors';
import { startHubServer, type HubServer } from '../../test/hub-server';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tiny-sd/', import.meta.url));
const REPO = 'test/tiny-sd';
const WEIGHTS = 'unet/diffusion_pytorch_model.safetensors';

let server: HubServer;
beforeEach(async () => {
  server = await startHubServer(FIXTURE, REPO, 'main');
});
afterEach(async () => {
  await server.close();
});

const url = (path: string) => `${server.baseUrl}/${REPO}/resolve/main/${path}`;
const fixtureBytes = (path: string) => readFile(FIXTURE + path);

async function downloadWithProgress(path: string, options: Parameters<typeof download>[1] = {}) {
  const events: [number, number | undefined][] = [];
  const blob = await download(url(path), {
    label: path,
    progressIntervalMs: 0,
    retryDelayMs: 1,
    onProgress: (loaded, total) => events.push([loaded, total]),
    ...options,
  });
  return { blob, events };
}

function expectMonotonicToEnd(events: [number, number | undefined][], size: number) {
  expect(events.length).toBeGreaterThan(0);
  for (let i = 1; i < events.length; i++) expect(events[i][0]).toBeGreaterThan(events[i - 1][0]);
  expect(events.at(-1)).toEqual([size, size]);
}

describe('download', () => {
  it('streams a file with monotonic byte progress ending at its size', async () => {
    const expected = await fixtureBytes(WEIGHTS);
    const { blob, events } = await downloadWithProgress(WEIGHTS);
    expect(Buffer.from(await blob.arrayBuffer()).equals(expected), 'same bytes as the file').toBe(true);
    expectMonotonicToEnd(events, expected.length);
    expect(events.length).toBeGreaterThan(1);
  });

  it('resumes a dropped connection with a Range request', async () => {
    const expected = await fixtureBytes(WEIGHTS);
    server.drop(WEIGHTS, 1, 1_000_000);
    const { blob, events } = await downloadWithProgress(WEIGHTS);
    expect(Buffer.from(await blob.arrayBuffer()).equals(expected), 'same bytes as the file').toBe(true);
    expectMonotonicToEnd(events, expected.length);
    const gets = server.requests.filter((r) => r.path === WEIGHTS);
    expect(gets).toHaveLength(2);
    expect(gets[0].range).toBeUndefined();
    // Resumed exactly where the received bytes ended (at least what the server sent before cutting).
    expect(gets[1].range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(gets[1].range!)![0])).toBeGreaterThan(0);
  });

  it('restarts cleanly when the server answers a Range request with the whole file (200)', async () => {
    const expected = await fixtureBytes(WEIGHTS);
    server.ignoreRanges = true;
    server.drop(WEIGHTS, 2, 3_000_000);
    const { blob, events } = await downloadWithProgress(WEIGHTS);
    expect(blob.size).toBe(expected.length);
    expect(Buffer.from(await blob.arrayBuffer()).equals(expected), 'same bytes as the file').toBe(true);
    expectMonotonicToEnd(events, expected.length);
    expect(server.requests.filter((r) => r.path === WEIGHTS)).toHaveLength(3);
  });

  it('gives up after the retries with DownloadFailed naming the file, the endpoint and the cause', async () => {
    server.drop(WEIGHTS, 100, 1000);
    // Each attempt brings no new bytes past the first 1000, so failures accumulate.
    server.ignoreRanges = true;
    const error = await downloadWithProgress(WEIGHTS, { retries: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).name).toBe('DownloadFailed');
    expect((error as Error).message).toMatch(new RegExp(`^${WEIGHTS} from ${server.baseUrl}: .* \\(tried 3 times\\)\\.$`));
    expect(server.requests.filter((r) => r.path === WEIGHTS)).toHaveLength(3);
  });

  it('a 404 names the file and the URL, without retrying', async () => {
    server.notFound.add('vae/config.json');
    const error = await downloadWithProgress('vae/config.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSourceError);
    expect((error as ModelSourceError).reason).toBe('not-found');
    expect((error as Error).message).toBe(`vae/config.json was not found (HTTP 404 at ${url('vae/config.json')}).`);
    expect(server.requests).toHaveLength(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const error = await download(url(WEIGHTS), {
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (loaded) => loaded > 100_000 && controller.abort(),
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
  });
});

describe('download refuses what a misbehaving server sends', () => {
  const VOCAB = 'tokenizer/vocab.json';
  const MERGES = 'tokenizer/merges.txt';
  // Deadlines short enough for stalls to end soon, long enough for a loaded machine to answer.
  const quick = { connectTimeoutMs: 1000, idleTimeoutMs: 1000, retryDelayMs: 1 };
  const impatient = { connectTimeoutMs: 200, idleTimeoutMs: 200, retryDelayMs: 1 };
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('it should fail'), (e: unknown) => e as StudioError);
  const getsOf = (path: string) => server.requests.filter((r) => r.method === 'GET' && r.path === path);
  const same = async (blob: Blob, bytes: Uint8Array) => expect(Buffer.from(await blob.arrayBuffer()).equals(bytes), 'same bytes').toBe(true);

  it('a server that accepts and never answers fails after the retries, naming the file and the endpoint', async () => {
    server.stall(VOCAB, 'headers');
    const error = await failure(download(url(VOCAB), { ...impatient, label: VOCAB }));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: `${VOCAB} from ${server.baseUrl}: no answer for 0.2 s (tried 3 times).` });
    expect(getsOf(VOCAB)).toHaveLength(3);
  });

  it('a body that stalls is resumed once it answers again, with If-Range', async () => {
    server.stall(WEIGHTS, 'body', 1, 5000);
    const blob = await download(url(WEIGHTS), quick);
    await same(blob, await fixtureBytes(WEIGHTS));
    const [first, second] = getsOf(WEIGHTS);
    expect(first.range).toBeUndefined();
    expect(second).toMatchObject({ range: 'bytes=5000-', ifRange: expect.stringMatching(/^"[0-9a-f]{64}"$/) });
  });

  it('a body that keeps stalling fails, saying how far it came', async () => {
    server.stall(VOCAB, 'body', Infinity, 100);
    server.ignoreRanges = true; // no attempt gets past the first 100 bytes
    const size = (await fixtureBytes(VOCAB)).length;
    const error = await failure(download(url(VOCAB), { ...quick, idleTimeoutMs: 200, label: VOCAB }));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: `${VOCAB} from ${server.baseUrl}: no bytes for 0.2 s after 100 of ${size} bytes (tried 3 times).` });
  });

  it('a body that ends short of the announced size is resumed to the whole file', async () => {
    const expected = await fixtureBytes(MERGES);
    server.short(MERGES, 1);
    const announced = await probe(url(MERGES));
    expect(announced).toEqual({ size: expected.length });
    await same(await download(url(MERGES), { ...quick, expected: announced! }), expected);
    expect(getsOf(MERGES)[1].range).toBe(`bytes=${Math.floor(expected.length / 3)}-`);
  });

  it('a body that always ends short fails instead of returning a truncated file', async () => {
    const size = (await fixtureBytes(MERGES)).length;
    server.short(MERGES, 100);
    server.ignoreRanges = true; // no attempt gets past the first third
    const error = await failure(download(url(MERGES), { ...quick, label: MERGES, expected: { size } }));
    expect(error.name).toBe('DownloadFailed');
    expect(error.message).toMatch(new RegExp(`^${MERGES} from .*: the body ended after \\d+ of ${size} bytes \\(tried 3 times\\)\\.$`));
  });

  it('an HTML page served for a text file is refused at once', async () => {
    server.html.add(MERGES);
    const error = await failure(download(url(MERGES), { ...quick, label: MERGES, textual: true }));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: `${MERGES} from ${server.baseUrl}: the server sent a web page (text/html) instead of the file; nothing was kept.` });
    expect(getsOf(MERGES)).toHaveLength(1);
  });

  it('an endless body stops at the cap of its kind', async () => {
    server.endless.add(VOCAB);
    const error = await failure(download(url(VOCAB), { ...quick, label: VOCAB, maxBytes: 1 << 20 }));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: `${VOCAB} from ${server.baseUrl}: the server sent more than the 1048576 bytes such a file may have; nothing was kept.` });
    expect(getsOf(VOCAB)).toHaveLength(1);
  });

  it('a body larger than announced is refused', async () => {
    const error = await failure(download(url(VOCAB), { ...quick, label: VOCAB, expected: { size: 1000 } }));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: expect.stringMatching(/announced 1000 bytes, then sent \d+; nothing was kept\.$/) });
  });

  it('a file changed upstream between a drop and the resume is fetched anew, never spliced', async () => {
    const original = await fixtureBytes(VOCAB);
    const changed = new TextEncoder().encode(JSON.stringify({ changed: 1, ...JSON.parse(original.toString()) }));
    server.drop(VOCAB, 1, 500_000, changed);
    const blob = await download(url(VOCAB), quick);
    await same(blob, changed);
    const [first, second] = getsOf(VOCAB);
    expect(first.ifRange).toBeUndefined();
    // The resume named the version it had (the server answered it with the whole new file).
    expect(second).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), ifRange: expect.stringMatching(/^"[0-9a-f]{40}"$/) });
  });

  it('a server that ignores If-Range and resumes another version is caught by its ETag', async () => {
    const original = await fixtureBytes(VOCAB);
    const changed = new TextEncoder().encode(JSON.stringify({ changed: 1, ...JSON.parse(original.toString()) }));
    server.ignoreIfRange = true;
    server.drop(VOCAB, 1, 500_000, changed);
    await same(await download(url(VOCAB), quick), changed);
    expect(getsOf(VOCAB).map((r) => r.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/), undefined]);
  });

  it('an LFS file whose bytes do not hash to the announced sha256 is refused', async () => {
    server.wrongSha.add(WEIGHTS);
    const announced = await probe(url(WEIGHTS));
    expect(announced!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const error = await failure(download(url(WEIGHTS), { ...quick, label: WEIGHTS, expected: announced! }));
    expect(error.name).toBe('DownloadFailed');
    expect(error.message).toMatch(new RegExp(`^${WEIGHTS} from .*: its sha256 is [0-9a-f]{64}, the hub says ${announced!.sha256}; nothing was kept\\.$`));
  });

  it('an LFS file is checked against its sha256 and size (the right ones pass)', async () => {
    const expected = await fixtureBytes(WEIGHTS);
    const announced = await probe(url(WEIGHTS));
    expect(announced).toEqual({ size: expected.length, sha256: createHash('sha256').update(expected).digest('hex') });
    await same(await download(url(WEIGHTS), { ...quick, expected: announced! }), expected);
  });

  it('a HEAD that gets no answer fails after the retries', async () => {
    server.stall(VOCAB, 'headers');
    const error = await failure(probe(url(VOCAB), { ...impatient, label: VOCAB }));
    expect(error).toMatchObject({ name: 'DownloadFailed', message: `${VOCAB} from ${server.baseUrl}: no answer for 0.2 s (tried 3 times).` });
    expect(server.requests.filter((r) => r.method === 'HEAD')).toHaveLength(3);
  });
});
