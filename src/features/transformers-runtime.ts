/**
 * transformers.js, imported lazily (the engine bundle pays for it at the first evaluation) and
 * configured once before any model loads so that it never reaches the network by itself: no hub
 * (`allowRemoteModels` off), no file system, no fetch at all (`env.fetch` refuses). Every model
 * file comes through `FeatureFiles`, which the caller backs with the studio's own sources (the
 * hub with its checked, resumable cache; a folder in Node), by way of transformers.js' custom
 * cache. onnxruntime-web's wasm comes from the app's own URLs, never the CDN default.
 */
import { StudioError } from '../common/errors';
import type { OrtWasmPaths } from './types';

type Transformers = typeof import('@huggingface/transformers');

/** A feature model's folder (transformers.js layout): its files' bytes, null when it has none. */
export interface FeatureFiles {
  /** What it is: a repo id or a folder, for the evaluation's settings. */
  name: string;
  read(path: string): Promise<Uint8Array | null>;
}

/** The ids models load under: `studio-features/<role>-<n>`, routed to their files. */
const PREFIX = 'studio-features/';
const ID = /studio-features\/([\w.-]+)\/(?:resolve\/[^/]+\/)?(.+)$/;

const routes = new Map<string, FeatureFiles>();
let nextId = 1;
let runtime: Promise<Transformers> | null = null;
let refusedFetches = 0;
/** transformers.js swallows its cache's errors: the last read that failed, told in their place. */
let readError: unknown = null;
/** Whether onnxruntime-web has been pointed at the app's own files. */
let wasmServed = false;

/** Requests transformers.js tried to make on its own (all refused); 0 when every file came through `FeatureFiles`. */
export function refusedFetchCount(): number {
  return refusedFetches;
}

/** The file router transformers.js takes for its cache: reads only, keys are its URLs or paths. */
const filesAsCache = {
  async match(key: string): Promise<Response | undefined> {
    const m = ID.exec(String(key));
    const files = m && routes.get(PREFIX + m[1]);
    if (!files) return undefined;
    let bytes: Uint8Array | null;
    try {
      bytes = await files.read(decodeURIComponent(m[2]));
    } catch (error) {
      readError = error;
      throw error;
    }
    return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.byteLength) } }) : undefined;
  },
  async put(): Promise<void> {}, // the files are the studio's already
};

function configure(t: Transformers): void {
  const { env } = t;
  env.allowRemoteModels = false;
  env.allowLocalModels = true; // else transformers.js refuses before it looks in the cache
  env.useFS = false;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.useWasmCache = false;
  env.useCustomCache = true;
  env.customCache = filesAsCache;
  env.fetch = async (input: string | URL) => {
    refusedFetches++;
    throw new StudioError('InternalError', `transformers.js tried to fetch ${String(input)} itself; feature models load through the studio's files only.`);
  };
}

const inBrowser = typeof process === 'undefined' || !process.versions?.node;

/** transformers.js, configured; `wasmPaths` (browser: required) points onnxruntime-web at the app's copies. */
export async function transformers(wasmPaths?: OrtWasmPaths): Promise<Transformers> {
  runtime ??= import('@huggingface/transformers').then((t) => (configure(t), t));
  const t = await runtime;
  const wasm = t.env.backends.onnx?.wasm as { wasmPaths?: OrtWasmPaths } | undefined;
  if (wasm && wasmPaths) {
    wasm.wasmPaths = typeof wasmPaths === 'string' ? wasmPaths : { ...wasmPaths }; // mutated in place: onnxruntime shares this object
    wasmServed = true;
  }
  if (inBrowser && !wasmServed) throw new StudioError('InternalError', "The feature models need onnxruntime-web's files served by the studio (wasmPaths); none were given, and the CDN is never used.");
  return t;
}

/** The error of a file read that failed since the last call (transformers.js reports those as missing files). */
export function takeReadError(): unknown {
  const error = readError;
  readError = null;
  return error;
}

/** A fresh model id routed to `files` until `unroute`. */
export function route(role: string, files: FeatureFiles): string {
  const id = `${PREFIX}${role}-${nextId++}`;
  routes.set(id, files);
  return id;
}

export function unroute(id: string): void {
  routes.delete(id);
}
