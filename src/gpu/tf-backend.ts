/**
 * The tfjs WebGPU backend, built on the device we requested (so it sees our raised limits and
 * features) instead of the one tfjs would request for itself.
 */
import * as tf from './tf';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const BACKEND_NAME = 'webgpu';

export async function installWebGpuBackend(device: GPUDevice, adapterInfo: GPUAdapterInfo): Promise<WebGPUBackend> {
  if (tf.findBackendFactory(BACKEND_NAME)) tf.removeBackend(BACKEND_NAME);
  // Training records every op for the backward pass: never run small ops on the CPU.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  tf.registerBackend(BACKEND_NAME, () => new WebGPUBackend(device, adapterInfo), 3);
  if (!(await tf.setBackend(BACKEND_NAME))) {
    throw new Error('tfjs could not initialise its WebGPU backend on our device.');
  }
  return tf.backend() as WebGPUBackend;
}

export function webgpuBackend(): WebGPUBackend {
  const backend = tf.findBackend(BACKEND_NAME);
  if (!backend) throw new Error('The WebGPU backend is not installed.');
  return backend as WebGPUBackend;
}

/**
 * Submits every recorded GPU command now, without waiting for the GPU: tensors disposed since the
 * last submit (tfjs holds their buffers until then) are released at once.
 */
export function submitRecorded(): void {
  const backend = webgpuBackend();
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** Submits every recorded GPU command and resolves once the GPU has finished them. */
export async function flushGpu(): Promise<void> {
  submitRecorded();
  await webgpuBackend().device.queue.onSubmittedWorkDone();
}
