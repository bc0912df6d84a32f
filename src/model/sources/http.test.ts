import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { download } from './http';
import { ModelSourceError } from './types';
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

  it('gives up after the retries with an error naming the file, the URL and the cause', async () => {
    server.drop(WEIGHTS, 100, 1000);
    // Each attempt brings no new bytes past the first 1000, so failures accumulate.
    server.ignoreRanges = true;
    const error = await downloadWithProgress(WEIGHTS, { retries: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSourceError);
    expect((error as ModelSourceError).reason).toBe('network');
    expect((error as Error).message).toMatch(new RegExp(`Downloading ${WEIGHTS} failed after 3 attempts`));
    expect((error as ModelSourceError).url).toBe(url(WEIGHTS));
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
