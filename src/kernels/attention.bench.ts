import * as tf from '../gpu/tf';
import type { Benchmark } from './benchmark';
import { attention, type AttentionOptions } from './attention';
import { attentionComposed } from './attention-composed';
import { randomNormal } from '../common/random';

/**
 * Forward + backward (tf.grads w.r.t. q, k, v) of self-attention over n tokens, one head of
 * d = 40 (SD 1.x's first UNet level): ours (fused kernels) vs the composed tfjs formula.
 * flops: 12·n²·d, the six n×n×d matmuls (2 forward, 4 backward) without recomputation.
 */
function attentionBench(n: number, d = 40): Benchmark {
  return {
    name: `attention/fwd+bwd/n${n}-d${d}`,
    setup: () => {
      const [q, k, v, dy] = [1, 2, 3, 4].map((seed) => tf.tensor(randomNormal(n * d, seed), [1, n, d]));
      const options: AttentionOptions = { numHeads: 1 };
      const grads = (f: (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor) => () =>
        tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c))([q, k, v], dy);
      return {
        ours: grads((a, b, c) => attention(a, b, c, options)),
        baseline: grads((a, b, c) => attentionComposed(a, b, c, options)),
        flops: 12 * n * n * d,
        dispose: () => tf.dispose([q, k, v, dy]),
      };
    },
  };
}

export const benchmarks: Benchmark[] = [attentionBench(256), attentionBench(1024), attentionBench(4096)];
