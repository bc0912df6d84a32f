/**
 * Vitest setup: every test file gets the studio's own WebGPU backend (same device request and
 * backend construction as the engine worker) on Dawn, plus the tfjs CPU backend for references.
 */
import { installNodeWebGpu } from './node-gpu';

const gpu = installNodeWebGpu();
const { requestGpu } = await import('../engine/gpu');
const { installWebGpuBackend } = await import('../engine/tf-backend');
await import('@tensorflow/tfjs-backend-cpu');
const { adapter, device, capabilities } = await requestGpu(gpu);
await installWebGpuBackend(device, adapter.info);
(globalThis as { __gpuCapabilities?: unknown }).__gpuCapabilities = capabilities;
