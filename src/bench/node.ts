/** Benchmarks in Node on Dawn (run through Vite by scripts/run-ts.mjs). */
import { installNodeWebGpu } from '../test/node-gpu';

export async function main(filters: string[]): Promise<void> {
  const gpu = installNodeWebGpu();
  const { requestGpu } = await import('../engine/gpu');
  const { installWebGpuBackend } = await import('../engine/tf-backend');
  const { runBenchmarks } = await import('./run');
  const { adapter, device, capabilities } = await requestGpu(gpu);
  await installWebGpuBackend(device, adapter.info);
  await runBenchmarks(filters, capabilities, (line) => console.log(line));
  device.destroy();
}
