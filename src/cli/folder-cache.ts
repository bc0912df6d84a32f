/**
 * Hub downloads kept on disk between runs of the command line (the browser keeps them in Cache
 * Storage): the `ModelCache` key `models/<repo>/<revision>/<path>` is the file's path under the
 * cache folder, written to a temporary file and renamed, read back as a file-backed Blob.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { ModelCache } from '../model/sources/cache';

/** $STUDIO_CACHE, else diffusion-studio/ under $XDG_CACHE_HOME or ~/.cache. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STUDIO_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'diffusion-studio');
}

export class FolderCache implements ModelCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    const parts = key.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new Error(`'${key}' cannot name a cached file.`);
    return join(this.dir, ...parts);
  }

  async match(key: string): Promise<Blob | undefined> {
    const file = this.file(key);
    const found = await stat(file).catch(() => null);
    return found?.isFile() ? openAsBlob(file) : undefined;
  }

  async put(key: string, blob: Blob): Promise<void> {
    const file = this.file(key);
    const temp = `${file}.${process.pid}.tmp`;
    await mkdir(dirname(file), { recursive: true });
    try {
      await pipeline(Readable.fromWeb(blob.stream() as NodeReadableStream<Uint8Array>), createWriteStream(temp));
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new DOMException(`The disk is full (${this.dir}).`, 'QuotaExceededError');
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    const file = this.file(key);
    const found = await stat(file).catch(() => null);
    await rm(file, { force: true });
    return Boolean(found);
  }

  async keys(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.endsWith('.tmp')) out.push(relative(this.dir, full).split(sep).join('/'));
      }
    };
    await walk(this.dir);
    return out.sort();
  }
}
