import type * as tf from '../gpu/tf';

/** What one benchmark measures: our op and the composed tfjs baseline, on the same inputs. */
export interface BenchRun {
  ours: () => tf.TensorContainer;
  baseline: () => tf.TensorContainer;
  /** Floating-point operations of one call, to report GFLOP/s. */
  flops?: number;
  /** Frees the inputs made by `setup`. */
  dispose: () => void;
}

export interface Benchmark {
  /** Unique, stable, `kernel/variant` (e.g. `adamw/1M`); `npm run bench -- NAME` selects by prefix. */
  name: string;
  setup: () => BenchRun;
}
