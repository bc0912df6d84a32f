/**
 * Streaming HTTP download with byte progress and resume.
 *
 * The body is read chunk by chunk (ReadableStream) and folded into Blob parts every 32 MiB, so a
 * 2 GB file never sits in the JS heap whole. When the connection drops, the download continues
 * with `Range: bytes=N-` (206 expected; a 200 means the server ignores ranges, so it restarts from
 * zero), with exponential backoff, giving up after `retries` attempts in a row that brought no new
 * bytes. Only a complete file is ever returned: callers cache the result, never a part of it.
 */
import { ModelSourceError } from './types';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Bytes received so far and the size when the server said; `loaded` never goes back. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Minimum milliseconds between progress calls (the last one always comes); default 50. */
  progressIntervalMs?: number;
  /** Failed attempts in a row (without new bytes) before giving up; default 4. */
  retries?: number;
  /** First backoff delay, doubled on each failure in a row; default 500 ms. */
  retryDelayMs?: number;
  headers?: Record<string, string>;
  /** Names the file in messages; defaults to the URL. */
  label?: string;
  fetch?: typeof fetch;
}

/** Hard cap on attempts, however much each one brings. */
const MAX_ATTEMPTS = 64;
const PART_BYTES = 32 << 20;
/** Larger than any model file we read: a body past it is refused (bounds the read loop). */
const MAX_FILE_BYTES = 16e9;

export async function download(url: string, options: DownloadOptions = {}): Promise<Blob> {
  const { signal, onProgress } = options;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const label = options.label ?? url;
  const retries = options.retries ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const interval = options.progressIntervalMs ?? 50;

  let parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let received = 0;
  let total: number | undefined;
  let resumable = false;
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
  };

  let failures = 0;
  let lastError: unknown;
  let attempts = 0;
  let highest = 0; // most bytes any attempt reached: progress means passing it
  while (attempts < MAX_ATTEMPTS && failures <= retries) {
    signal?.throwIfAborted();
    if (failures > 0) await sleep(retryDelayMs * 2 ** (failures - 1), signal);
    attempts++;
    if (received > 0 && !resumable) restart();
    try {
      const headers = new Headers(options.headers);
      if (received > 0) headers.set('Range', `bytes=${received}-`);
      const response = await doFetch(url, { signal, headers });
      checkStatus(response, url, label);

      if (received > 0 && response.status === 206) {
        const range = parseContentRange(response.headers.get('Content-Range'));
        if (range?.start !== received) {
          await response.body?.cancel();
          throw new Error(`the server resumed at the wrong place (${response.headers.get('Content-Range')})`);
        }
        total = range.total ?? total;
      } else if (response.status === 200) {
        if (received > 0) restart(); // the server ignored the Range header: start over cleanly
        const encoded = (response.headers.get('Content-Encoding') ?? 'identity') !== 'identity';
        const length = Number(response.headers.get('Content-Length') ?? NaN);
        total = !encoded && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
        resumable = !encoded;
      } else if (response.status === 416) {
        await response.body?.cancel();
        restart();
        throw new Error('the server could not resume (HTTP 416)');
      } else if (retryable(response.status)) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      } else {
        await response.body?.cancel();
        throw new ModelSourceError('network', `${label}: the server answered HTTP ${response.status} ${response.statusText} for ${url}.`, { url });
      }

      const reader = response.body?.getReader();
      for (let done = !reader; !done; ) {
        const chunk = await reader!.read();
        done = chunk.done;
        if (chunk.value && chunk.value.byteLength > 0) {
          pending.push(chunk.value);
          pendingBytes += chunk.value.byteLength;
          received += chunk.value.byteLength;
          if (received > MAX_FILE_BYTES) {
            await reader!.cancel();
            throw new ModelSourceError('invalid', `${label} is larger than ${MAX_FILE_BYTES / 1e9} GB; refusing it (${url}).`, { url });
          }
          if (pendingBytes >= PART_BYTES) {
            parts.push(new Blob(pending as BlobPart[]));
            pending = [];
            pendingBytes = 0;
          }
          report(false);
        }
      }
      if (total !== undefined && received < total) throw new Error(`connection closed after ${received} of ${total} bytes`);
      report(true);
      return new Blob([...parts, ...(pending as BlobPart[])]);
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      if (error instanceof ModelSourceError) throw error;
      lastError = error;
      failures = received > highest ? 1 : failures + 1;
      highest = Math.max(highest, received);
    }
  }
  const cause = lastError instanceof Error && lastError.cause instanceof Error ? `: ${lastError.cause.message}` : '';
  const why = lastError instanceof Error ? lastError.message + cause : String(lastError);
  throw new ModelSourceError(
    'network',
    `Downloading ${label} failed after ${attempts} attempts (${why}). Check the connection and try again; completed files are kept.`,
    { url, cause: lastError },
  );
}

/**
 * HEAD request (a one-byte GET where HEAD is not allowed): null when the file is missing (404),
 * its size when the server says, `{}` when it cannot tell (network trouble: the download will
 * find out).
 */
export async function probe(url: string, options: Pick<DownloadOptions, 'signal' | 'headers' | 'label' | 'fetch'> = {}): Promise<{ size?: number } | null> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await doFetch(url, { method: 'HEAD', signal: options.signal, headers: options.headers });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    return {};
  }
  await response.body?.cancel();
  if (response.status === 405 || response.status === 501) {
    // No HEAD here: ask for the first byte instead (206 tells the size in Content-Range).
    const headers = new Headers(options.headers);
    headers.set('Range', 'bytes=0-0');
    try {
      response = await doFetch(url, { signal: options.signal, headers });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      return {};
    }
    await response.body?.cancel();
    if (response.status === 206) return { size: parseContentRange(response.headers.get('Content-Range'))?.total };
  }
  if (response.status === 404) return null;
  checkStatus(response, url, options.label ?? url);
  if (!response.ok) return {};
  const encoded = (response.headers.get('Content-Encoding') ?? 'identity') !== 'identity';
  const length = Number(response.headers.get('Content-Length') ?? NaN);
  return !encoded && Number.isSafeInteger(length) && length >= 0 ? { size: length } : {};
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

/** `bytes START-END/TOTAL` (TOTAL may be `*`). */
function parseContentRange(header: string | null): { start: number; total?: number } | undefined {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
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
