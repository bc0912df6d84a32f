/**
 * Vitest setup: every test file gets the studio's own WebGPU backend (same device request and
 * backend construction as the engine worker) on Dawn, plus the tfjs CPU backend for references.
 * A WebGPU validation error (a shader that does not compile, a bad binding) fails the test that
 * caused it instead of scrolling past as a log line.
 */
import { afterEach, expect } from 'vitest';
import { installNodeWebGpu } from './node-gpu';

const gpu = installNodeWebGpu();
const { requestGpu } = await import('../engine/gpu');
const { installWebGpuBackend } = await import('../engine/tf-backend');
await import('@tensorflow/tfjs-backend-cpu');
const { adapter, device, capabilities } = await requestGpu(gpu);
await installWebGpuBackend(device, adapter.info);
(globalThis as { __gpuCapabilities?: unknown }).__gpuCapabilities = capabilities;

const gpuErrors: string[] = [];
device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
afterEach(async () => {
  await device.queue.onSubmittedWorkDone();
  const errors = gpuErrors.splice(0);
  expect(errors, 'WebGPU validation errors').toEqual([]);
});
