/**
 * Test-only: a real HTTP server on 127.0.0.1 serving a diffusers folder the way the Hugging Face
 * hub does, at `/{repo}/resolve/{revision}/{path}`, with HEAD, `Range: bytes=N-` (206), CORS for
 * pages on other origins (as the hub sends), the commit the files come from in `X-Repo-Commit`
 * (as the hub sends it), and switches to misbehave: drop the connection mid-file, ignore ranges,
 * answer 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface RequestRecord {
  method: string;
  /** Path inside the model folder. */
  path: string;
  range?: string;
}

export interface HubServer {
  /** `http://127.0.0.1:PORT`, to pass as the hub base URL. */
  baseUrl: string;
  requests: RequestRecord[];
  /** GET requests for `path` cut the connection after `afterBytes` body bytes, `times` times. */
  drop(path: string, times: number, afterBytes?: number): void;
  /** Paths answered with 404 even when the file exists. */
  notFound: Set<string>;
  /** Answer Range requests with the full file (200), like servers without range support. */
  ignoreRanges: boolean;
  /** Answer HEAD with 405, like some static hosts. */
  refuseHead: boolean;
  /** Sent as `X-Repo-Commit` with every file (as the hub does); undefined: not sent. */
  commit: string | undefined;
  close(): Promise<void>;
}

/** The commit a test hub says its files come from, unless told otherwise. */
export const TEST_COMMIT = '0123456789abcdef0123456789abcdef01234567';

export async function startHubServer(root: string, repo: string, revision: string, port = 0): Promise<HubServer> {
  const prefix = `/${repo}/resolve/${encodeURIComponent(revision)}/`;
  const drops = new Map<string, { times: number; afterBytes?: number }>();
  const server: HubServer = {
    baseUrl: '',
    requests: [],
    drop: (path, times, afterBytes) => drops.set(path, { times, afterBytes }),
    notFound: new Set(),
    ignoreRanges: false,
    refuseHead: false,
    commit: TEST_COMMIT,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, X-Repo-Commit');
    if (req.method === 'OPTIONS') {
      return void res.writeHead(204, { 'Access-Control-Allow-Headers': 'Range, Authorization', 'Access-Control-Allow-Methods': 'GET, HEAD' }).end();
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!url.pathname.startsWith(prefix)) return void res.writeHead(404).end('no such repo/revision');
    const path = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
    server.requests.push({ method: req.method ?? 'GET', path, range: req.headers.range });
    if (req.method === 'HEAD' && server.refuseHead) return void res.writeHead(405).end();
    const file = normalize(join(root, path));
    if (!file.startsWith(normalize(root)) || server.notFound.has(path)) return void res.writeHead(404).end('Entry not found');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return void res.writeHead(404).end('Entry not found');
    const bytes = await readFile(file);

    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range && !server.ignoreRanges ? Number(range[1]) : 0;
    if (start > bytes.length) return void res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end();
    const body = bytes.subarray(start);
    const headers: Record<string, string | number> = { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' };
    if (server.commit) headers['X-Repo-Commit'] = server.commit;
    if (range && !server.ignoreRanges) headers['Content-Range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    res.writeHead(range && !server.ignoreRanges ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();

    const drop = drops.get(path);
    if (drop && drop.times > 0) {
      drop.times--;
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
