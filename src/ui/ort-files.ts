/**
 * onnxruntime-web's wasm build (the one transformers.js runs the feature models on), served by
 * the studio itself: Vite copies both files from node_modules into the build (in dev it serves
 * them), so they match the version transformers.js pins and never come from a CDN. The engine
 * hands these URLs to transformers.js before its first model loads.
 */
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';

/** Resolved against the page, so the engine worker reads the same absolute URLs. */
export function ortWasmPaths(base: string = globalThis.location?.href ?? 'http://127.0.0.1/'): { mjs: string; wasm: string } {
  return { mjs: new URL(mjs, base).href, wasm: new URL(wasm, base).href };
}
