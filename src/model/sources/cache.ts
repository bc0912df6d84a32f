/**
 * The model file cache, behind a tiny interface (the transformers.js pattern): whole files only,
 * keyed by `hub/{endpoint}/{repo}/{revision}/{path}` with endpoint, repo and revision URI-encoded:
 * a file from one endpoint is never served for another. The browser implementation is Cache
 * Storage; `MemoryCache` serves where there is none (Node, tests).
 */

export interface ModelCache {
  match(key: string): Promise<Blob | undefined>;
  /** Stores a complete file; may throw (QuotaExceededError): callers report it and go on. */
  put(key: string, blob: Blob): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
}

export const CACHE_NAME = 'diffusion-studio-models-v1';

/** Where a cached model came from. */
export interface CachedModelId {
  /** The hub endpoint (`https://huggingface.co`); null for files kept before the endpoint was part of the key. */
  endpoint: string | null;
  repo: string;
  revision: string;
}

export function cacheKey(endpoint: string, repo: string, revision: string, path: string): string {
  return `hub/${encodeURIComponent(endpoint)}/${encodeURIComponent(repo)}/${encodeURIComponent(revision)}/${path}`;
}

/** Keys of studio versions before the endpoint was in them (`models/{repo}/{revision}/{path}`): listed and deleted, never read. */
const LEGACY_KEY = /^models\/([^/]+)\/([^/]+)\/(.+)$/;
const KEY = /^hub\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)$/;

function parseKey(key: string): (CachedModelId & { path: string }) | undefined {
  const match = KEY.exec(key);
  if (match) return { endpoint: decodeURIComponent(match[1]), repo: decodeURIComponent(match[2]), revision: decodeURIComponent(match[3]), path: match[4] };
  const legacy = LEGACY_KEY.exec(key);
  if (legacy) return { endpoint: null, repo: decodeURIComponent(legacy[1]), revision: decodeURIComponent(legacy[2]), path: legacy[3] };
  return undefined;
}

export interface CachedModel extends CachedModelId {
  files: number;
  bytes: number;
  /** An ONNX feature model (CLIP, DINOv2: what Evaluate scores with), not a diffusion model to load. */
  feature?: true;
}

/** Models with at least one cached file, with their total sizes, largest first. */
export async function listCachedModels(cache: ModelCache): Promise<CachedModel[]> {
  const models = new Map<string, CachedModel>();
  for (const key of await cache.keys()) {
    const parsed = parseKey(key);
    if (!parsed || parsed.path.startsWith('.')) continue; // bookkeeping records, not model files
    const blob = await cache.match(key);
    if (!blob) continue;
    const id = `${parsed.endpoint} ${parsed.repo}@${parsed.revision}`;
    const model = models.get(id) ?? { endpoint: parsed.endpoint, repo: parsed.repo, revision: parsed.revision, files: 0, bytes: 0 };
    model.files++;
    model.bytes += blob.size;
    if (parsed.path.startsWith('onnx/')) model.feature = true;
    models.set(id, model);
  }
  return [...models.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Deletes every cached file of the model (and its records); returns how many entries were deleted. */
export async function deleteCachedModel(cache: ModelCache, { endpoint, repo, revision }: CachedModelId): Promise<number> {
  let deleted = 0;
  for (const key of await cache.keys()) {
    const parsed = parseKey(key);
    if (parsed?.endpoint === endpoint && parsed.repo === repo && parsed.revision === revision && (await cache.delete(key))) deleted++;
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
