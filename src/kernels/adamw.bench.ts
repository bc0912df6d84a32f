import * as tf from '../gpu/tf';
import type { Benchmark } from './benchmark';
import { adamwStep, ADAMW_DEFAULTS } from './adamw';
import { adamwStepComposed } from './adamw.reference';
import { randomNormal } from '../common/random';

/** One optimizer step over n parameters: ours (2 fused passes) vs the composed tfjs formula. */
function adamw(name: string, n: number): Benchmark {
  return {
    name,
    setup: () => {
      const p = tf.tensor(randomNormal(n, 1));
      const g = tf.tensor(randomNormal(n, 2));
      const mv = tf.zeros([n, 2]);
      const m = tf.zeros([n]);
      const v = tf.zeros([n]);
      return {
        ours: () => adamwStep(p, g, mv, 3, ADAMW_DEFAULTS),
        baseline: () => adamwStepComposed(p, g, m, v, 3, ADAMW_DEFAULTS),
        dispose: () => tf.dispose([p, g, mv, m, v]),
      };
    },
  };
}

// 1M: a LoRA on every cross-attention of SD1.5 at rank 4 is about 0.8M parameters.
export const benchmarks: Benchmark[] = [adamw('adamw/64k', 1 << 16), adamw('adamw/1M', 1 << 20)];
