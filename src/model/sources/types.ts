/**
 * Model sources: where the files of a diffusers folder (model_index.json, unet/config.json, ...)
 * come from. Paths are always relative to the model root, with '/' separators.
 */

export interface FileRequest {
  signal?: AbortSignal;
  onEvent?: (event: FileEvent) => void;
}

/** What a source reports while getting one file. */
export type FileEvent =
  /** The bytes come from the network (not from the cache or a local folder). */
  | { status: 'download'; url: string }
  /** Bytes of this file received so far; `total` when the server said. Monotonic. */
  | { status: 'progress'; loaded: number; total?: number }
  /** The file was fetched but could not be cached (quota, private mode); it still loads. */
  | { status: 'cache-error'; message: string };

export interface StatOptions {
  signal?: AbortSignal;
  fresh?: boolean;
}

export interface ModelSource {
  /**
   * What the weights are (`model-id.ts`): `hf:owner/name@<commit>`, `local:tiny-sd#<fingerprint>`,
   * `builtin:shapes-sd`. A hub source's is final once its files are loaded.
   */
  readonly id: string;
  /** What people call it (`owner/name`, `tiny-sd`): for sentences, and matching older records. */
  readonly name: string;
  /**
   * Whether `path` exists and its size when known, without fetching it; null when it is missing.
   * Sources may remember absent paths; `fresh` asks again.
   */
  stat(path: string, options?: StatOptions): Promise<{ size?: number } | null>;
  /** The file's bytes; a `ModelSourceError` with reason 'not-found' when it is missing. */
  file(path: string, request?: FileRequest): Promise<Blob>;
  /** Every path, when the source can list them (a local folder can, the hub is not asked). */
  list?(): string[];
}

export type ModelSourceErrorReason =
  /** The file is not there (HTTP 404, or absent from the folder). */
  | 'not-found'
  /** The server refused us (401/403: gated, private, or a repo that does not exist). */
  | 'forbidden'
  /** The bytes arrived but are not what the path promises (bad JSON, broken safetensors). */
  | 'invalid'
  /** The folder is not a model folder (no model_index.json, or several). */
  | 'not-a-model';

export class ModelSourceError extends Error {
  override readonly name = 'ModelSourceError';
  readonly reason: ModelSourceErrorReason;
  /** Path of the file inside the model, when one file is at fault. */
  readonly file?: string;
  readonly url?: string;

  constructor(reason: ModelSourceErrorReason, message: string, details: { file?: string; url?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.file = details.file;
    this.url = details.url;
  }
}

/** Reads a JSON file of a source, naming the file when it is not JSON. */
export async function readJson<T = unknown>(source: ModelSource, path: string, request?: FileRequest): Promise<T> {
  const text = await (await source.file(path, request)).text();
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ModelSourceError('invalid', `${path} in ${source.name} is not valid JSON: ${(e as Error).message}`, { file: path, cause: e });
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
