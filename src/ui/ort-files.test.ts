import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ortWasmPaths } from './ort-files';

const pkg = (name: string) => JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8'));

describe('ortWasmPaths', () => {
  it("names onnxruntime-web's asyncify build on the page's own origin, never a CDN", () => {
    const paths = ortWasmPaths('http://127.0.0.1:4173/');
    expect(new URL(paths.mjs).origin).toBe('http://127.0.0.1:4173');
    expect(new URL(paths.wasm).origin).toBe('http://127.0.0.1:4173');
    expect(paths.mjs).toMatch(/ort-wasm-simd-threaded\.asyncify(-[\w-]+)?\.mjs$/);
    expect(paths.wasm).toMatch(/ort-wasm-simd-threaded\.asyncify(-[\w-]+)?\.wasm$/);
  });

  it('serves the onnxruntime-web that transformers.js pins (files of another version do not load)', () => {
    expect(pkg('onnxruntime-web').version).toBe(pkg('@huggingface/transformers').dependencies['onnxruntime-web']);
  });
});
