/**
 * A model folder served as static files beside the app (the built-in model). Its `files.json`
 * lists every file with its size, so nothing is probed: a dev server answers a missing path with
 * the app's index.html, which must never be read as a model file.
 */
import { download } from './http';
import { nameOfId } from './model-id';
import { ModelSourceError, type FileRequest, type ModelSource } from './types';

export const FILE_LIST = 'files.json';

export class StaticFolderSource implements ModelSource {
  readonly name: string;

  private constructor(
    readonly id: string,
    private readonly baseUrl: string,
    private readonly sizes: ReadonlyMap<string, number>,
    private readonly doFetch: typeof fetch,
  ) {
    this.name = nameOfId(id);
  }

  /** Reads the folder's file list; `baseUrl` ends with '/'. */
  static async open(id: string, baseUrl: string, options: { signal?: AbortSignal; fetch?: typeof fetch } = {}): Promise<StaticFolderSource> {
    const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const url = new URL(FILE_LIST, baseUrl).href;
    const text = await (await download(url, { signal: options.signal, fetch: doFetch, label: `${id}/${FILE_LIST}` })).text();
    let files: unknown;
    try {
      files = (JSON.parse(text) as { files?: unknown }).files;
    } catch {
      files = null;
    }
    const entries = files && typeof files === 'object' ? Object.entries(files as Record<string, unknown>) : [];
    if (entries.length === 0 || entries.some(([, size]) => !Number.isInteger(size))) {
      throw new ModelSourceError('invalid', `${url} is not a file list ({"files": {"path": size, …}}).`, { file: FILE_LIST, url });
    }
    return new StaticFolderSource(id, baseUrl, new Map(entries as [string, number][]), doFetch);
  }

  async stat(path: string): Promise<{ size?: number } | null> {
    const size = this.sizes.get(path);
    return size === undefined ? null : { size };
  }

  async file(path: string, request: FileRequest = {}): Promise<Blob> {
    const size = this.sizes.get(path);
    if (size === undefined) throw new ModelSourceError('not-found', `${path} is not part of ${this.id}.`, { file: path });
    const url = new URL(path, this.baseUrl).href;
    const blob = await download(url, {
      signal: request.signal,
      fetch: this.doFetch,
      label: `${this.id}/${path}`,
      onProgress: (loaded, total) => request.onEvent?.({ status: 'progress', loaded, total: total ?? size }),
    });
    if (blob.size !== size) {
      throw new ModelSourceError('invalid', `${path} of ${this.id} has ${blob.size} bytes, its file list says ${size}.`, { file: path, url });
    }
    return blob;
  }

  list(): string[] {
    return [...this.sizes.keys()].sort();
  }
}
