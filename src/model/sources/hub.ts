/**
 * A model on the Hugging Face hub (or a mirror with the same URL scheme):
 * `{baseUrl}/{repo}/resolve/{revision}/{path}`.
 *
 * Files come from the cache when there, else from the network (streamed, resumed on drops, with
 * deadlines; the size, and the sha256 of LFS files, the hub announced are checked), are checked
 * (JSON and merges parse, safetensors headers validate against the size) and only then cached,
 * with their sizes in a record. A cached file whose size differs from its record, or that no
 * longer parses, is deleted and downloaded again. Paths the hub answered 404 for are remembered
 * per model in a small cached record, so a model loaded once resolves its variants (fp16 or not)
 * again without any request; `stat` with `fresh` asks again (a transient 404 must not make a
 * required file missing for good). Everything is keyed by endpoint, repo and revision.
 */
import { isQuotaError } from '../../common/errors';
import { cacheKey, type ModelCache } from './cache';
import { fileProblem } from './file-checks';
import { fileLimits } from './file-limits';
import { download, probe, type Announced, type Timeouts } from './http';
import { DEFAULT_HUB_URL, hubModelId, hubModelName, isCommitSha, repoCommit } from './model-id';
import { ModelSourceError, type FileRequest, type ModelSource, type StatOptions } from './types';

export { DEFAULT_HUB_URL };

/** Cached record of the paths known to be absent, per model (not a model file). */
export const MISSING_RECORD = '.studio-missing.json';
/** Cached record of the cached files' sizes, per model: `{path: {size}}`. */
export const FILES_RECORD = '.studio-files.json';
/** Cached record of the commit the cached files came from, so a model read from the cache keeps its id. */
export const COMMIT_RECORD = '.studio-commit.json';

type FilesRecord = Record<string, { size: number }>;

export interface HubOptions extends Timeouts {
  /** `owner/name`, e.g. `stable-diffusion-v1-5/stable-diffusion-v1-5`. */
  repo: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  /** Default https://huggingface.co. */
  baseUrl?: string;
  /** Where downloaded files are kept; null: none. */
  cache: ModelCache | null;
  /** For gated or private repos: sent as `Authorization: Bearer …`. */
  accessToken?: string;
  /** Download tuning (see `download`). */
  progressIntervalMs?: number;
  fetch?: typeof fetch;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export class HubSource implements ModelSource {
  readonly name: string;
  readonly repo: string;
  readonly revision: string;
  readonly baseUrl: string;
  private readonly cache: ModelCache | null;
  private readonly options: HubOptions;
  private missing?: Promise<Set<string>>;
  private records?: Promise<FilesRecord>;
  /** What the HEAD requests announced, per path. */
  private readonly announced = new Map<string, Announced>();
  /** Cached files checked in this session. */
  private readonly verified = new Set<string>();
  /** The commit the hub named (X-Repo-Commit) or the cache recorded; undefined until one did. */
  private commit?: string;
  private commitRecord?: Promise<void>;
  private readonly fetch: typeof fetch;

  constructor(options: HubOptions) {
    if (!REPO_ID.test(options.repo) || options.repo.includes('..')) {
      throw new ModelSourceError('not-found', `'${options.repo}' is not a Hugging Face repo id (expected owner/name).`);
    }
    this.options = options;
    this.repo = options.repo;
    this.revision = options.revision ?? 'main';
    this.baseUrl = (options.baseUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
    this.cache = options.cache;
    this.name = hubModelName(this.repo, this.revision);
    if (isCommitSha(this.revision)) this.commit = this.revision;
    const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.fetch = async (input, init) => {
      const response = await doFetch(input, init);
      this.commit ??= repoCommit(response.headers);
      return response;
    };
  }

  /** Resolved to the commit once the hub (or the cache) names it: read it after loading. */
  get id(): string {
    return hubModelId(this.baseUrl, this.repo, this.commit ?? this.revision);
  }

  url(path: string): string {
    const encodedPath = path.split('/').map(encodeURIComponent).join('/');
    return `${this.baseUrl}/${this.repo}/resolve/${encodeURIComponent(this.revision)}/${encodedPath}`;
  }

  async stat(path: string, options: StatOptions = {}): Promise<{ size?: number } | null> {
    const cached = await this.cached(path);
    if (cached) return { size: cached.size };
    const missing = await this.missingPaths();
    if (!options.fresh && missing.has(path)) return null;
    const found = await probe(this.url(path), {
      signal: options.signal,
      headers: this.headers(),
      label: this.label(path),
      fetch: this.fetch,
      connectTimeoutMs: this.options.connectTimeoutMs,
      retries: this.options.retries,
      retryDelayMs: this.options.retryDelayMs,
    });
    if (found) this.announced.set(path, found);
    if (found === null) await this.rememberMissing(path);
    else if (missing.delete(path)) await this.saveMissing();
    return found;
  }

  async file(path: string, request: FileRequest = {}): Promise<Blob> {
    const cached = await this.cached(path);
    if (cached) return cached;

    const url = this.url(path);
    request.onEvent?.({ status: 'download', url });
    const { connectTimeoutMs, idleTimeoutMs, retries, retryDelayMs, progressIntervalMs } = this.options;
    let blob: Blob;
    try {
      blob = await download(url, {
        signal: request.signal,
        onProgress: (loaded, total) => request.onEvent?.({ status: 'progress', loaded, total }),
        headers: this.headers(),
        label: this.label(path),
        ...{ connectTimeoutMs, idleTimeoutMs, retries, retryDelayMs, progressIntervalMs, fetch: this.fetch },
        ...fileLimits(path),
        expected: this.announced.get(path),
      });
    } catch (error) {
      if (error instanceof ModelSourceError) {
        if (error.reason === 'not-found') await this.rememberMissing(path);
        throw new ModelSourceError(error.reason, error.message, { file: path, url, cause: error.cause });
      }
      throw error;
    }
    const problem = await fileProblem(path, blob);
    if (problem) throw new ModelSourceError('invalid', `${this.label(path)} arrived broken: ${problem}`, { file: path, url });

    if (this.cache) {
      try {
        await this.cache.put(this.key(path), blob);
        await this.record(path, { size: blob.size });
        await this.recordCommit();
        this.verified.add(path);
      } catch (error) {
        const why = isQuotaError(error)
          ? 'the browser storage quota is full; free space by deleting cached models'
          : `the browser refused to store it (${(error as Error).message})`;
        request.onEvent?.({ status: 'cache-error', message: `${path} was not cached: ${why}. It loads now but will download again next time.` });
      }
    }
    return blob;
  }

  private label(path: string): string {
    return `${path} of ${this.repo}@${this.revision}`;
  }

  private headers(): Record<string, string> | undefined {
    return this.options.accessToken ? { Authorization: `Bearer ${this.options.accessToken}` } : undefined;
  }

  private key(path: string): string {
    return cacheKey(this.baseUrl, this.repo, this.revision, path);
  }

  /** The cached file, unless it is missing or corrupt (deleted then, so it downloads again). */
  private async cached(path: string): Promise<Blob | undefined> {
    if (!this.cache) return undefined;
    let blob: Blob | undefined;
    try {
      blob = await this.cache.match(this.key(path));
      if (blob) await this.readCommit();
    } catch {
      return undefined; // an unreadable cache is a miss
    }
    if (!blob || this.verified.has(path)) return blob;
    const recorded = (await this.filesRecord())[path]?.size;
    if (recorded === blob.size && (await fileProblem(path, blob)) === null) {
      this.verified.add(path);
      return blob;
    }
    await this.cache.delete(this.key(path)).catch(() => false);
    await this.record(path, null);
    return undefined;
  }

  private filesRecord(): Promise<FilesRecord> {
    this.records ??= this.readRecord(FILES_RECORD).then((value) => (value && typeof value === 'object' && !Array.isArray(value) ? (value as FilesRecord) : {}));
    return this.records;
  }

  private async record(path: string, entry: { size: number } | null): Promise<void> {
    const records = await this.filesRecord();
    if (entry) records[path] = entry;
    else if (path in records) delete records[path];
    else return;
    await this.writeRecord(FILES_RECORD, records);
  }

  private async writeRecord(name: string, value: unknown): Promise<void> {
    await this.cache?.put(this.key(name), new Blob([JSON.stringify(value)], { type: 'application/json' }));
  }

  private async readRecord(name: string): Promise<unknown> {
    try {
      const record = await this.cache?.match(this.key(name));
      return record ? JSON.parse(await record.text()) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The commit of files already cached, when this source has not heard one yet. */
  private readCommit(): Promise<void> {
    this.commitRecord ??= (async () => {
      const sha = this.commit ? undefined : await this.readRecord(COMMIT_RECORD);
      if (typeof sha === 'string' && isCommitSha(sha)) this.commit ??= sha;
    })();
    return this.commitRecord;
  }

  private async recordCommit(): Promise<void> {
    if (this.commit) await this.writeRecord(COMMIT_RECORD, this.commit).catch(() => undefined);
  }

  private missingPaths(): Promise<Set<string>> {
    this.missing ??= this.readRecord(MISSING_RECORD).then(
      (paths) => new Set(Array.isArray(paths) ? paths.filter((p): p is string => typeof p === 'string') : []),
    );
    return this.missing;
  }

  private async rememberMissing(path: string): Promise<void> {
    (await this.missingPaths()).add(path);
    await this.saveMissing();
  }

  private async saveMissing(): Promise<void> {
    if (!this.cache) return;
    await this.writeRecord(MISSING_RECORD, [...(await this.missingPaths())].sort()).catch(() => undefined);
  }
}
