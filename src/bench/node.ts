/** Benchmarks in Node on Dawn (run through Vite by scripts/run-ts.mjs). */
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(filters: string[]): Promise<number | void> {
  // `npm run bench -- quality …`: the concept-quality benchmark on the built-in model (quality.ts).
  if (filters[0] === 'quality') return (await import('./quality')).main(filters.slice(1));
  const { device, capabilities } = await startNodeWebGpu();
  const { runBenchmarks } = await import('./run');
  await runBenchmarks(filters, capabilities, (line) => console.log(line));
  device.destroy();
}
