/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY } from './src/common/content-security-policy.ts';

/** The built page's CSP as a <meta>, first in <head> (for any static host); not in dev, where hot reload runs inline scripts. */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'studio-content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  resolve: {
    // tfjs' ESM builds everywhere (browser, Vitest, benchmarks): Node resolution would pick the
    // CommonJS bundles and load a second tfjs-core next to the deep ESM imports of src/engine/tf.ts.
    alias: [
      { find: /^@tensorflow\/(tfjs-core|tfjs-backend-webgpu|tfjs-backend-cpu)$/, replacement: '@tensorflow/$1/dist/index.js' },
    ],
  },
  server: { host: '127.0.0.1', port: 5173 },
  // The header as well: a worker is held to the policy its own script arrives with, not the page's <meta>.
  preview: { host: '127.0.0.1', port: 4173, headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
  worker: { format: 'es' },
  // Pre-bundle tfjs' entry points together in one pass (they share one tfjs-core); discovered
  // one by one inside the worker, the dev server would bundle them apart and reload midway.
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core/dist/index.js',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops',
      '@tensorflow/tfjs-backend-webgpu/dist/index.js',
      '@huggingface/tokenizers',
    ],
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  test: {
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup-webgpu.ts'],
    environment: 'node',
    // Run tfjs from its ESM build, as the browser does (one copy of tfjs-core, gradients registered).
    server: { deps: { inline: [/@tensorflow\//] } },
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
