/** The command line's engine: what --model names, and hub models downloaded once into the folder cache. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHubServer, TEST_COMMIT } from '../test/hub-server';
import { cacheKey } from '../model/sources/cache';
import { TINY_SD } from '../test/model-fixtures';
import { createEngine, modelSpec } from './engine';
import { FolderCache } from './folder-cache';
import { createOutput } from './progress';
import { info } from './info';
import { UsageError } from './usage';

describe('the command line engine', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'studio-cache-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('reads --model as builtin, a folder (its files under its name), or a hub id', async () => {
    expect(await modelSpec('builtin')).toEqual({ kind: 'builtin' });
    const folder = await modelSpec(TINY_SD);
    expect(folder.kind === 'local' && folder.paths).toContain('tiny-sd/unet/config.json');
    expect(await modelSpec('owner/name@v2', 'http://mirror')).toEqual({ kind: 'hub', repo: 'owner/name', revision: 'v2', endpoint: 'http://mirror' });
    await expect(modelSpec(join(TINY_SD, 'model_index.json'))).rejects.toBeInstanceOf(UsageError);
    await expect(modelSpec('./no/such')).rejects.toMatchObject({ name: 'ModelLoadFailed', message: 'There is no model folder ./no/such.' });
  });

  it('loads a hub model once into the folder cache, then from it without a request', async () => {
    const server = await startHubServer(TINY_SD, 'test/tiny-sd', 'main');
    const previous = process.env.STUDIO_CACHE;
    process.env.STUDIO_CACHE = cacheDir;
    try {
      const run = async () => {
        const lines: string[] = [];
        const stdout = { write: (t: string) => lines.push(t) } as unknown as NodeJS.WriteStream;
        expect(await info({ model: 'test/tiny-sd', endpoint: server.baseUrl, json: true }, createOutput(true, { stdout, stderr: stdout }), () => createEngine())).toBe(0);
        return JSON.parse(lines.join('')) as { model: { id: string; name: string } };
      };
      const model = { id: `hf:${new URL(server.baseUrl).host}/test/tiny-sd@${TEST_COMMIT}`, name: 'test/tiny-sd' };
      expect((await run()).model).toMatchObject(model);
      const downloads = server.requests.filter((r) => r.method === 'GET').length;
      expect(downloads).toBeGreaterThanOrEqual(12);
      const keys = await new FolderCache(cacheDir).keys();
      const unetKey = cacheKey(server.baseUrl, 'test/tiny-sd', 'main', 'unet/diffusion_pytorch_model.safetensors');
      expect(keys).toContain(unetKey);
      expect(readdirSync(join(cacheDir, ...unetKey.split('/').slice(0, -1))).some((f) => f.endsWith('.tmp'))).toBe(false);
      expect((await run()).model).toMatchObject(model); // the commit is kept with the cached files
      expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(downloads);
    } finally {
      if (previous === undefined) delete process.env.STUDIO_CACHE;
      else process.env.STUDIO_CACHE = previous;
      await server.close();
    }
  });
});
