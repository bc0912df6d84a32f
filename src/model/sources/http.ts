/**
 * Streaming HTTP download with byte progress, timeouts, resume and integrity checks.
 *
 * The body is read chunk by chunk (ReadableStream) and folded into Blob parts every 32 MiB, so a
 * 2 GB file never sits in the JS heap whole. Each attempt has a connect deadline (headers) and an
 * idle deadline (bytes). When the connection drops or stalls, the download continues with
 * `Range: bytes=N-` and `If-Range` (so a file changed upstream restarts instead of splicing two
 * versions), with exponential backoff, giving up after `retries` attempts in a row that brought no
 * new bytes; 4xx answers are never retried. Only a complete file is ever returned: its size equals
 * the announced one, it stays under its kind's cap, a text file is not an HTML page, and its
 * sha256 matches where the hub tells it. Failures are `DownloadFailed`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { StudioError } from '../../common/errors';
import { Deadline, seconds } from './deadline';
import { bodyLength, isEncoded, linkedSha256, linkedSize, parseContentRange, strongEtag } from './http-headers';
import { MAX_FILE_BYTES } from './file-limits';
import { ModelSourceError } from './types';

/** What the server said about the file before the download (HEAD). */
export interface Announced {
  size?: number;
  /** Lowercase hex; the hub gives it for LFS files (`X-Linked-Etag`). */
  sha256?: string;
}

export interface Timeouts {
  /** Milliseconds to wait for the response headers; default 30 s. */
  connectTimeoutMs?: number;
  /** Milliseconds to wait for the next bytes of the body; default 30 s. */
  idleTimeoutMs?: number;
  /** Failed attempts in a row (without new bytes) before giving up; default 2. */
  retries?: number;
  /** First backoff delay, doubled on each failure in a row; default 500 ms. */
  retryDelayMs?: number;
}

export interface DownloadOptions extends Timeouts {
  signal?: AbortSignal;
  /** Bytes received so far and the size when the server said; `loaded` never goes back. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Minimum milliseconds between progress calls (the last one always comes); default 50. */
  progressIntervalMs?: number;
  headers?: Record<string, string>;
  /** Names the file in messages; defaults to the URL. */
  label?: string;
  fetch?: typeof fetch;
  /** Most bytes the file may have (see `fileLimits`). */
  maxBytes?: number;
  /** A text file (JSON, merges): an HTML page in its place is refused. */
  textual?: boolean;
  /** What a HEAD said: the body must match it. */
  expected?: Announced;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Hard cap on attempts, however much each one brings. */
const MAX_ATTEMPTS = 64;
const PART_BYTES = 32 << 20;

export async function download(url: string, options: DownloadOptions = {}): Promise<Blob> {
  const { signal, onProgress, expected = {} } = options;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const label = options.label ?? url;
  const where = `${label} from ${endpointOf(url)}`;
  const retries = options.retries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const connectMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const interval = options.progressIntervalMs ?? 50;
  const maxBytes = Math.min(options.maxBytes ?? MAX_FILE_BYTES, MAX_FILE_BYTES);
  const refuse = (why: string) => new StudioError('DownloadFailed', `${where}: ${why}; nothing was kept.`);
  if (expected.size !== undefined && expected.size > maxBytes) throw refuse(`the server announced ${expected.size} bytes, more than the ${maxBytes} such a file may have`);

  let parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let received = 0;
  let total: number | undefined;
  /** The strong ETag or Last-Modified of the bytes so far: a resume without one could splice two versions. */
  let validator: string | undefined;
  let hasher: ReturnType<typeof sha256.create> | undefined;
  let wantSha = expected.sha256;
  let reported = 0;
  let lastReportTime = -Infinity;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!onProgress || received <= reported || (!force && now - lastReportTime < interval)) return;
    reported = received;
    lastReportTime = now;
    onProgress(received, total);
  };
  const restart = () => {
    parts = [];
    pending = [];
    pendingBytes = 0;
    received = 0;
    total = undefined;
    validator = undefined;
    hasher = undefined;
  };

  let failures = 0;
  let lastError: unknown;
  let attempts = 0;
  let highest = 0; // most bytes any attempt reached: progress means passing it
  while (attempts < MAX_ATTEMPTS && failures <= retries) {
    signal?.throwIfAborted();
    if (failures > 0) await sleep(retryDelayMs * 2 ** (failures - 1), signal);
    attempts++;
    if (received > 0 && !validator) restart();
    const deadline = new Deadline(signal);
    try {
      const headers = new Headers(options.headers);
      if (received > 0) {
        headers.set('Range', `bytes=${received}-`);
        headers.set('If-Range', validator!);
      }
      deadline.arm(connectMs, `no answer for ${seconds(connectMs)}`);
      const response = await deadline.race(doFetch(url, { signal: deadline.signal, headers }));
      deadline.disarm();
      checkStatus(response, url, label);

      if (received > 0 && response.status === 206) {
        const range = parseContentRange(response.headers.get('Content-Range'));
        if (range?.start !== received) {
          await response.body?.cancel();
          throw new Error(`the server resumed at the wrong place (${response.headers.get('Content-Range')})`);
        }
        const tag = strongEtag(response.headers);
        if (tag !== undefined && tag !== validator) {
          // A server that ignored If-Range: these bytes are of another version of the file.
          await response.body?.cancel();
          restart();
          throw new Error('the file changed on the server during the download');
        }
        total = range.total ?? total;
      } else if (response.status === 200) {
        if (received > 0) restart(); // the file changed (If-Range) or the server ignores ranges: start over cleanly
        const encoded = isEncoded(response.headers);
        total = bodyLength(response.headers);
        validator = encoded ? undefined : (strongEtag(response.headers) ?? response.headers.get('Last-Modified') ?? undefined);
        wantSha ??= linkedSha256(response.headers);
        hasher = wantSha ? sha256.create() : undefined;
        if (options.textual && /^\s*text\/html/i.test(response.headers.get('Content-Type') ?? '')) {
          await response.body?.cancel();
          throw refuse('the server sent a web page (text/html) instead of the file');
        }
        if (total !== undefined && total > maxBytes) {
          await response.body?.cancel();
          throw refuse(`the server announced ${total} bytes, more than the ${maxBytes} such a file may have`);
        }
        if (total !== undefined && expected.size !== undefined && total !== expected.size) {
          await response.body?.cancel();
          throw refuse(`the server announced ${expected.size} bytes, then sent ${total}`);
        }
      } else if (response.status === 416) {
        await response.body?.cancel();
        restart();
        throw new Error('the server could not resume (HTTP 416)');
      } else if (retryable(response.status)) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      } else {
        await response.body?.cancel();
        throw new StudioError('DownloadFailed', `${where}: the server answered HTTP ${response.status} ${response.statusText} for ${url}.`);
      }

      const size = total ?? expected.size; // what the file must come to
      const reader = response.body?.getReader();
      for (let done = !reader; !done; ) {
        deadline.arm(idleMs, `no bytes for ${seconds(idleMs)}`);
        const chunk = await deadline.race(reader!.read());
        done = chunk.done;
        if (chunk.value && chunk.value.byteLength > 0) {
          pending.push(chunk.value);
          pendingBytes += chunk.value.byteLength;
          received += chunk.value.byteLength;
          if (received > maxBytes || (size !== undefined && received > size)) {
            await reader!.cancel();
            const limit = size !== undefined && size <= maxBytes ? `the ${size} bytes announced` : `the ${maxBytes} bytes such a file may have`;
            throw refuse(`the server sent more than ${limit}`);
          }
          hasher?.update(chunk.value);
          if (pendingBytes >= PART_BYTES) {
            parts.push(new Blob(pending as BlobPart[]));
            pending = [];
            pendingBytes = 0;
          }
          report(false);
        }
      }
      deadline.disarm();
      if (size !== undefined && received < size) throw new Error(`the body ended after ${received} of ${size} bytes`);
      if (hasher && wantSha) {
        const got = bytesToHex(hasher.digest());
        if (got !== wantSha) throw refuse(`its sha256 is ${got}, the hub says ${wantSha}`);
      }
      report(true);
      return new Blob([...parts, ...(pending as BlobPart[])]);
    } catch (error) {
      deadline.disarm();
      if (signal?.aborted) throw signal.reason ?? error;
      if (error instanceof ModelSourceError || error instanceof StudioError) throw error;
      lastError = deadline.expired ? new Error(deadline.expired + (received > 0 ? ` after ${received} of ${total ?? expected.size ?? '?'} bytes` : ''), { cause: error }) : error;
      failures = received > highest ? 1 : failures + 1;
      highest = Math.max(highest, received);
    }
  }
  throw new StudioError('DownloadFailed', `${where}: ${why(lastError)} (tried ${attempts} times).`, undefined, { cause: lastError });
}

/**
 * HEAD request (a one-byte GET where HEAD is not allowed): null when the file is missing (404),
 * what the server announced otherwise (`{}` when it cannot tell: the download will find out).
 * An unanswered request is retried, then `DownloadFailed`.
 */
export async function probe(
  url: string,
  options: Pick<DownloadOptions, 'signal' | 'headers' | 'label' | 'fetch' | 'connectTimeoutMs' | 'retries' | 'retryDelayMs'> = {},
): Promise<Announced | null> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const connectMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? 2;
  const ask = async (init: RequestInit): Promise<Response | null> => {
    for (let attempt = 1; ; attempt++) {
      const deadline = new Deadline(options.signal);
      deadline.arm(connectMs, `no answer for ${seconds(connectMs)}`);
      try {
        const response = await deadline.race(doFetch(url, { ...init, signal: deadline.signal }));
        await response.body?.cancel();
        return response;
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason ?? error;
        if (!deadline.expired) return null; // network trouble: the download will find out
        if (attempt > retries) {
          throw new StudioError('DownloadFailed', `${options.label ?? url} from ${endpointOf(url)}: ${deadline.expired} (tried ${attempt} times).`);
        }
        await sleep((options.retryDelayMs ?? 500) * 2 ** (attempt - 1), options.signal);
      } finally {
        deadline.disarm();
      }
    }
  };
  let response = await ask({ method: 'HEAD', headers: options.headers });
  if (!response) return {};
  if (response.status === 405 || response.status === 501) {
    // No HEAD here: ask for the first byte instead (206 tells the size in Content-Range).
    const headers = new Headers(options.headers);
    headers.set('Range', 'bytes=0-0');
    response = await ask({ headers });
    if (!response) return {};
    if (response.status === 206) return { size: parseContentRange(response.headers.get('Content-Range'))?.total, sha256: linkedSha256(response.headers) };
  }
  if (response.status === 404) return null;
  checkStatus(response, url, options.label ?? url);
  if (!response.ok) return {};
  return { size: linkedSize(response.headers) ?? bodyLength(response.headers), sha256: linkedSha256(response.headers) };
}

function checkStatus(response: Response, url: string, label: string): void {
  if (response.status === 404) {
    void response.body?.cancel();
    throw new ModelSourceError('not-found', `${label} was not found (HTTP 404 at ${url}).`, { url });
  }
  if (response.status === 401 || response.status === 403) {
    void response.body?.cancel();
    throw new ModelSourceError(
      'forbidden',
      `${label}: access denied (HTTP ${response.status} at ${url}). The repository may be private, gated, or misspelled.`,
      { url },
    );
  }
}

function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function endpointOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

function why(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error && !/^(no answer|no bytes)/.test(error.message) ? `: ${error.cause.message}` : '';
  return error instanceof Error ? error.message + cause : String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
