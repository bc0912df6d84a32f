import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep, dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_DIR } from './node-folder';
import { FILE_LIST, StaticFolderSource } from './static-folder';

/** A static host like Vite's dev server: a missing path gets the app's index.html with 200. */
function startStaticHost(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    try {
      const body = readFileSync(join(root, path));
      res.writeHead(200, { 'Content-Length': body.length }).end(body);
    } catch {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><div id="root"></div>');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })));
}

function filesUnder(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else out[relative(root, full).split(sep).join('/')] = statSync(full).size;
    }
  };
  walk(root);
  return out;
}

describe('the built-in model folder', () => {
  it("lists every file it holds with its size in files.json (and nothing it does not hold)", () => {
    const { [FILE_LIST]: _list, ...onDisk } = filesUnder(BUILTIN_MODEL_DIR);
    const listed = JSON.parse(readFileSync(join(BUILTIN_MODEL_DIR, FILE_LIST), 'utf8')).files;
    expect(listed).toEqual(onDisk);
  });
});

describe('StaticFolderSource', () => {
  let host: { server: Server; url: string };
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'static-folder-'));
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    put('m/model_index.json', '{"_class_name":"StableDiffusionPipeline"}');
    put('m/unet/config.json', '{"a":1}');
    put('m/files.json', JSON.stringify({ files: { 'model_index.json': 41, 'unet/config.json': 7, 'vae/config.json': 99 } }));
    put('bad/files.json', '<!doctype html>');
    host = await startStaticHost(root);
  });
  afterAll(() => new Promise<void>((resolve) => host.server.close(() => resolve())));

  it('answers stat from its file list, never asking the host about paths it does not list', async () => {
    const source = await StaticFolderSource.open('builtin:test', `${host.url}m/`);
    expect(await source.stat('unet/config.json')).toEqual({ size: 7 });
    expect(await source.stat('unet/diffusion_pytorch_model.fp16.safetensors')).toBeNull();
    expect(source.list()).toEqual(['model_index.json', 'unet/config.json', 'vae/config.json']);
    expect(await (await source.file('unet/config.json')).text()).toBe('{"a":1}');
    await expect(source.file('text_encoder/config.json')).rejects.toMatchObject({ reason: 'not-found' });
  });

  it("refuses a file whose size is not the listed one (the host's index.html stands in for a missing file)", async () => {
    const source = await StaticFolderSource.open('builtin:test', `${host.url}m/`);
    await expect(source.file('vae/config.json')).rejects.toMatchObject({ reason: 'invalid', message: expect.stringMatching(/vae\/config.json .* bytes, its file list says 99/) });
  });

  it('refuses a folder whose file list is not one', async () => {
    await expect(StaticFolderSource.open('builtin:test', `${host.url}bad/`)).rejects.toMatchObject({ reason: 'invalid', message: expect.stringMatching(/is not a file list/) });
  });
});
