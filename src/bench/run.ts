/**
 * `npm run bench [-- NAME...]`: runs every `src/**\/*.bench.ts` benchmark (or those whose name
 * starts with a NAME) on real WebGPU, printing one JSON object per line:
 * {name, ours_ms, baseline_ms, ratio, ours_peak_bytes, baseline_peak_bytes, adapter[, *_gflops]}
 * where ratio = baseline_ms / ours_ms (above 1: ours is faster). Never fails on time; a baseline
 * that cannot run (e.g. out of memory) is reported with `baseline_error`.
 */
import { errorMessage } from '../common/errors';
import * as tf from '../gpu/tf';
import type { GpuCapabilities } from '../gpu/device';
import { measure, type Measurement } from './measure';
import type { Benchmark } from '../kernels/benchmark';

const modules = import.meta.glob<{ benchmarks: Benchmark[] }>('../**/*.bench.ts', { eager: true });

export function allBenchmarks(): Benchmark[] {
  return Object.values(modules).flatMap((m) => m.benchmarks);
}

const round = (x: number, digits = 3) => Number(x.toPrecision(digits + 1));

export async function runBenchmarks(filters: string[], capabilities: GpuCapabilities, print: (line: string) => void): Promise<number> {
  const selected = allBenchmarks().filter((b) => filters.length === 0 || filters.some((f) => b.name.startsWith(f)));
  if (selected.length === 0) throw new Error(`No benchmark matches ${filters.join(', ')}.`);
  const adapter = [capabilities.adapter.vendor, capabilities.adapter.architecture, capabilities.adapter.description].filter(Boolean).join(' / ');
  for (const bench of selected) {
    const run = bench.setup();
    try {
      const ours = await measure(run.ours);
      let baseline: Measurement | undefined;
      let baselineError: string | undefined;
      try {
        baseline = await measure(run.baseline);
      } catch (error) {
        baselineError = errorMessage(error);
      }
      const line: Record<string, unknown> = {
        name: bench.name,
        ours_ms: round(ours.ms),
        baseline_ms: baseline ? round(baseline.ms) : null,
        ratio: baseline ? round(baseline.ms / ours.ms) : null,
        ours_peak_bytes: ours.peakBytes,
        baseline_peak_bytes: baseline ? baseline.peakBytes : null,
        adapter,
      };
      if (run.flops) {
        line.ours_gflops = round(run.flops / ours.ms / 1e6);
        if (baseline) line.baseline_gflops = round(run.flops / baseline.ms / 1e6);
      }
      if (baselineError) line.baseline_error = baselineError;
      print(JSON.stringify(line));
    } finally {
      run.dispose();
    }
  }
  return tf.memory().numTensors;
}
