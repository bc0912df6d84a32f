/** Benchmarks in Node on Dawn (run through Vite by scripts/run-ts.mjs). */
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(filters: string[]): Promise<void> {
  const { device, capabilities } = await startNodeWebGpu();
  const { runBenchmarks } = await import('./run');
  await runBenchmarks(filters, capabilities, (line) => console.log(line));
  device.destroy();
}
