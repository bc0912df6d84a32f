/**
 * Timing and memory of one computation on the WebGPU backend. Time: median wall time of
 * calls from dispatch to `onSubmittedWorkDone` (after one warm-up call that compiles pipelines).
 * Memory: how far the backend's GPU buffer pool grows over one call (see gpu-memory.ts).
 */
import * as tf from '../gpu/tf';
import { flushGpu } from '../gpu/tf-backend';
import { measureGpuMemory } from '../gpu/memory';

export interface Measurement {
  ms: number;
  peakBytes: number;
}

const MIN_RUNS = 3;
const MAX_RUNS = 20;
const BUDGET_MS = 3000;

async function timeOnce(fn: () => tf.TensorContainer): Promise<number> {
  const start = performance.now();
  const out = tf.tidy(fn);
  await flushGpu();
  const ms = performance.now() - start;
  tf.dispose(out);
  return ms;
}

async function peakBytes(fn: () => tf.TensorContainer): Promise<number> {
  const { result, peakBytes } = await measureGpuMemory(() => tf.tidy(fn));
  tf.dispose(result);
  return peakBytes;
}

export async function measure(fn: () => tf.TensorContainer): Promise<Measurement> {
  await timeOnce(fn);
  const times: number[] = [];
  let spent = 0;
  while (times.length < MIN_RUNS || (times.length < MAX_RUNS && spent < BUDGET_MS)) {
    const ms = await timeOnce(fn);
    times.push(ms);
    spent += ms;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], peakBytes: await peakBytes(fn) };
}
