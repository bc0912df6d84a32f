/**
 * Test-only: a real HTTP server on 127.0.0.1 serving a diffusers folder the way the Hugging Face
 * hub does, at `/{repo}/resolve/{revision}/{path}`, with HEAD, `Range: bytes=N-` (206) and
 * `If-Range`, the hub's `ETag` (and `X-Linked-Etag` = `"<sha256>"`, `X-Linked-Size` for the LFS
 * files, `.safetensors` here), the commit the files come from in `X-Repo-Commit`, CORS for pages
 * on other origins (as the hub sends), and switches to misbehave: drop the connection mid-file,
 * ignore ranges, answer 404, never answer, stall after the headers, end the body short, send an
 * HTML page, send without end, change the file, announce a wrong sha256.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface RequestRecord {
  method: string;
  /** Path inside the model folder. */
  path: string;
  range?: string;
  ifRange?: string;
}

export interface HubServer {
  /** `http://127.0.0.1:PORT`, to pass as the hub base URL. */
  baseUrl: string;
  requests: RequestRecord[];
  /**
   * GET requests for `path` cut the connection after `afterBytes` body bytes, `times` times;
   * with `thenServe`, the file is those bytes from the first cut on (it changed upstream).
   */
  drop(path: string, times: number, afterBytes?: number, thenServe?: Uint8Array): void;
  /** Requests for `path` (any method) get no answer at all: `headers`; or the headers and `afterBytes`, then nothing: `body`. */
  stall(path: string, when: 'headers' | 'body', times?: number, afterBytes?: number): void;
  /** GET requests for `path` end cleanly after a third of the body, without Content-Length, `times` times (HEAD tells the real size). */
  short(path: string, times: number): void;
  /** Paths answered with a 200 HTML page, like a portal or a misconfigured mirror. */
  html: Set<string>;
  /** Paths answered with a body that never ends (no Content-Length). */
  endless: Set<string>;
  /** Paths whose X-Linked-Etag announces a sha256 that is not theirs. */
  wrongSha: Set<string>;
  /** Paths answered with 404 even when the file exists. */
  notFound: Set<string>;
  /** Answer Range requests with the full file (200), like servers without range support. */
  ignoreRanges: boolean;
  /** Serve the range asked for even when If-Range names another version. */
  ignoreIfRange: boolean;
  /** Answer HEAD with 405, like some static hosts. */
  refuseHead: boolean;
  /** Sent as `X-Repo-Commit` with every file (as the hub does); undefined: not sent. */
  commit: string | undefined;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = { json: 'application/json', txt: 'text/plain; charset=utf-8' };
const HTML_PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in to the network</body></html>';

/** The commit a test hub says its files come from, unless told otherwise. */
export const TEST_COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** `more`: other repos served beside `repo` (same revision), each from its folder. */
export async function startHubServer(root: string, repo: string, revision: string, port = 0, more: { repo: string; root: string }[] = []): Promise<HubServer> {
  const repos = [{ repo, root }, ...more].map((r) => ({ prefix: `/${r.repo}/resolve/${encodeURIComponent(revision)}/`, root: r.root }));
  const drops = new Map<string, { times: number; afterBytes?: number; thenServe?: Uint8Array }>();
  const stalls = new Map<string, { when: 'headers' | 'body'; times: number; afterBytes: number }>();
  const shorts = new Map<string, number>();
  const replaced = new Map<string, Uint8Array>();
  const server: HubServer = {
    baseUrl: '',
    requests: [],
    drop: (path, times, afterBytes, thenServe) => drops.set(path, { times, afterBytes, thenServe }),
    stall: (path, when, times = Infinity, afterBytes = 100) => stalls.set(path, { when, times, afterBytes }),
    short: (path, times) => shorts.set(path, times),
    html: new Set(),
    endless: new Set(),
    wrongSha: new Set(),
    notFound: new Set(),
    ignoreRanges: false,
    ignoreIfRange: false,
    refuseHead: false,
    commit: TEST_COMMIT,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, X-Linked-Etag, X-Linked-Size, X-Repo-Commit');
    if (req.method === 'OPTIONS') {
      return void res.writeHead(204, { 'Access-Control-Allow-Headers': 'Range, If-Range, Authorization', 'Access-Control-Allow-Methods': 'GET, HEAD' }).end();
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const served = repos.find((r) => url.pathname.startsWith(r.prefix));
    if (!served) return void res.writeHead(404).end('no such repo/revision');
    const { prefix, root } = served;
    const path = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
    const ifRange = req.headers['if-range'];
    server.requests.push({ method: req.method ?? 'GET', path, range: req.headers.range, ifRange: typeof ifRange === 'string' ? ifRange : undefined });
    const stall = stalls.get(path);
    if (stall && stall.times > 0 && stall.when === 'headers') {
      stall.times--;
      return; // accepted, never answered
    }
    if (req.method === 'HEAD' && server.refuseHead) return void res.writeHead(405).end();
    if (server.html.has(path)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(HTML_PAGE) });
      return void res.end(req.method === 'HEAD' ? undefined : HTML_PAGE);
    }
    if (server.endless.has(path)) {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.split('.').pop()!] ?? 'application/octet-stream' });
      if (req.method === 'HEAD') return void res.end();
      const chunk = Buffer.alloc(64 << 10, 0x20);
      res.write('{"vocab": ');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      return pump();
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(normalize(root)) || server.notFound.has(path)) return void res.writeHead(404).end('Entry not found');
    let bytes: Uint8Array | undefined = replaced.get(path);
    if (!bytes) {
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) return void res.writeHead(404).end('Entry not found');
      bytes = await readFile(file);
    }

    const lfs = path.endsWith('.safetensors');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const etag = `"${lfs ? sha256 : createHash('sha1').update(bytes).digest('hex')}"`;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const honoured = range && !server.ignoreRanges && (ifRange === undefined || ifRange === etag || server.ignoreIfRange);
    const start = honoured ? Number(range[1]) : 0;
    if (start > bytes.length) return void res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end();
    const body = bytes.subarray(start);
    const headers: Record<string, string | number> = {
      'Content-Length': body.length,
      'Accept-Ranges': 'bytes',
      'Content-Type': CONTENT_TYPES[path.split('.').pop()!] ?? 'application/octet-stream',
      ETag: etag,
    };
    if (lfs) {
      headers['X-Linked-Etag'] = `"${server.wrongSha.has(path) ? createHash('sha256').update('another file').digest('hex') : sha256}"`;
      headers['X-Linked-Size'] = bytes.length;
    }
    if (server.commit) headers['X-Repo-Commit'] = server.commit;
    if (honoured) headers['Content-Range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    const shortTimes = shorts.get(path) ?? 0;
    if (req.method === 'GET' && shortTimes > 0) {
      shorts.set(path, shortTimes - 1);
      delete headers['Content-Length']; // chunked: the end of the body looks like the end of the file
      res.writeHead(honoured ? 206 : 200, headers);
      return void res.end(body.subarray(0, Math.floor(body.length / 3)));
    }
    res.writeHead(honoured ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();

    if (stall && stall.times > 0 && stall.when === 'body') {
      stall.times--;
      return void res.write(body.subarray(0, stall.afterBytes)); // then nothing, connection open
    }
    const drop = drops.get(path);
    if (drop && drop.times > 0) {
      drop.times--;
      if (drop.thenServe) replaced.set(path, drop.thenServe);
      const cut = Math.min(drop.afterBytes ?? Math.floor(body.length / 2), body.length - 1);
      res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 10));
      return;
    }
    res.end(body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((e) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  server.baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const close = server.close;
  server.close = () => {
    http.closeAllConnections();
    return close();
  };
  return server;
}
