/**
 * The model file cache, behind a tiny interface (the transformers.js pattern): whole files only,
 * keyed by `models/{repo}/{revision}/{path}` with repo and revision URI-encoded. The browser
 * implementation is Cache Storage; `MemoryCache` serves where there is none (Node, tests).
 */

export interface ModelCache {
  match(key: string): Promise<Blob | undefined>;
  /** Stores a complete file; may throw (QuotaExceededError): callers report it and go on. */
  put(key: string, blob: Blob): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
}

export const CACHE_NAME = 'diffusion-studio-models-v1';

export function cacheKey(repo: string, revision: string, path: string): string {
  return `models/${encodeURIComponent(repo)}/${encodeURIComponent(revision)}/${path}`;
}

function parseKey(key: string): { repo: string; revision: string; path: string } | undefined {
  const match = /^models\/([^/]+)\/([^/]+)\/(.+)$/.exec(key);
  if (!match) return undefined;
  return { repo: decodeURIComponent(match[1]), revision: decodeURIComponent(match[2]), path: match[3] };
}

export interface CachedModel {
  repo: string;
  revision: string;
  files: number;
  bytes: number;
}

/** Models with at least one cached file, with their total sizes, largest first. */
export async function listCachedModels(cache: ModelCache): Promise<CachedModel[]> {
  const models = new Map<string, CachedModel>();
  for (const key of await cache.keys()) {
    const parsed = parseKey(key);
    if (!parsed || parsed.path.startsWith('.')) continue; // bookkeeping records, not model files
    const blob = await cache.match(key);
    if (!blob) continue;
    const id = `${parsed.repo}@${parsed.revision}`;
    const model = models.get(id) ?? { repo: parsed.repo, revision: parsed.revision, files: 0, bytes: 0 };
    model.files++;
    model.bytes += blob.size;
    models.set(id, model);
  }
  return [...models.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Deletes every cached file of the model; returns how many were deleted. */
export async function deleteCachedModel(cache: ModelCache, repo: string, revision: string): Promise<number> {
  const prefix = cacheKey(repo, revision, '');
  let deleted = 0;
  for (const key of await cache.keys()) {
    if (key.startsWith(prefix) && (await cache.delete(key))) deleted++;
  }
  return deleted;
}

/** An in-memory cache, optionally with a byte quota that fails like the browser's. */
export class MemoryCache implements ModelCache {
  private readonly entries = new Map<string, Blob>();

  constructor(private readonly quotaBytes = Infinity) {}

  async match(key: string): Promise<Blob | undefined> {
    return this.entries.get(key);
  }

  async put(key: string, blob: Blob): Promise<void> {
    let used = blob.size;
    for (const [k, b] of this.entries) if (k !== key) used += b.size;
    if (used > this.quotaBytes) {
      throw new DOMException(`Storing ${key} (${blob.size} bytes) would exceed the ${this.quotaBytes}-byte quota.`, 'QuotaExceededError');
    }
    this.entries.set(key, blob);
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }

  async keys(): Promise<string[]> {
    return [...this.entries.keys()];
  }
}

// Cache Storage keys must be http(s) URLs; this origin never resolves, it only names entries, and
// the key is encoded whole so the URL parser cannot rewrite it.
const KEY_ORIGIN = 'https://diffusion-studio.invalid/';

/** Cache Storage (`caches.open(CACHE_NAME)`), the browser's persistent store for responses. */
export class CacheStorageCache implements ModelCache {
  private constructor(private readonly cache: Cache) {}

  static async open(storage: CacheStorage = globalThis.caches, name = CACHE_NAME): Promise<CacheStorageCache> {
    return new CacheStorageCache(await storage.open(name));
  }

  async match(key: string): Promise<Blob | undefined> {
    const response = await this.cache.match(KEY_ORIGIN + encodeURIComponent(key));
    return response ? response.blob() : undefined;
  }

  async put(key: string, blob: Blob): Promise<void> {
    await this.cache.put(KEY_ORIGIN + encodeURIComponent(key), new Response(blob, { headers: { 'Content-Type': 'application/octet-stream' } }));
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(KEY_ORIGIN + encodeURIComponent(key));
  }

  async keys(): Promise<string[]> {
    const urls = (await this.cache.keys()).map((request) => request.url);
    return urls.filter((url) => url.startsWith(KEY_ORIGIN)).map((url) => decodeURIComponent(url.slice(KEY_ORIGIN.length)));
  }
}

/** The browser cache when this context has Cache Storage (pages and workers on https/localhost), else null. */
export async function openBrowserCache(): Promise<ModelCache | null> {
  if (typeof globalThis.caches === 'undefined') return null;
  try {
    return await CacheStorageCache.open();
  } catch {
    return null; // e.g. opaque origins and some private modes refuse storage
  }
}
