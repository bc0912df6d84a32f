/**
 * Vitest setup: every test file gets the studio's own WebGPU backend (same device request and
 * backend construction as the engine worker) on Dawn, plus the tfjs CPU backend for references.
 * A WebGPU validation error (a shader that does not compile, a bad binding) fails the test that
 * caused it instead of scrolling past as a log line. Each test runs in a scope of its own
 * (setup-scopes.ts).
 */
import { afterEach, expect } from 'vitest';
import { startNodeWebGpu } from '../gpu/node-webgpu';
import './setup-scopes';

const { device, capabilities } = await startNodeWebGpu();
await import('@tensorflow/tfjs-backend-cpu');
(globalThis as { __gpuCapabilities?: unknown }).__gpuCapabilities = capabilities;

const gpuErrors: string[] = [];
device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
afterEach(async () => {
  await device.queue.onSubmittedWorkDone();
  const errors = gpuErrors.splice(0);
  expect(errors, 'WebGPU validation errors').toEqual([]);
});
