/**
 * Keeps the GPU queue short: `pace()` submits the commands recorded so far and resolves once the
 * GPU has finished everything submitted before the previous `pace()`. Long work cut into pieces
 * with a `pace()` after each keeps at most two pieces queued (the GPU never idles waiting for the
 * next piece to be recorded), and a cancel checked after `pace()` stops the work within two pieces.
 */
import { webgpuBackend } from './tf-backend';

export function gpuPacer(): () => Promise<void> {
  let previous: Promise<void> = Promise.resolve();
  return async () => {
    const backend = webgpuBackend();
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    const waitFor = previous;
    previous = backend.device.queue.onSubmittedWorkDone();
    await waitFor;
  };
}
