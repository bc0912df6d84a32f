import * as tf from '../engine/tf';
import type { Benchmark } from '../bench/types';
import { attention, type AttentionOptions } from './attention';
import { attentionComposed } from './attention.reference';
import { randomNormal } from '../test/random';

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

// TEMP profiling
import { readFileSync } from 'node:fs';
import { runKernel } from './kernel';
const OLD_FWD = readFileSync('/tmp/attn/forward_v1.wgsl', 'utf8');
import NEW_FWD from '../../shaders/attention_forward.wgsl?raw';
function fwdVariant(name: string, source: string, n: number, d: number) {
  return (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => runKernel(
    { name, source, inputs: ['q', 'k', 'v'], uniforms: [['numQueries', 'i32'], ['numKeys', 'i32'], ['numHeads', 'i32'], ['batch', 'i32'], ['scaleLog2', 'f32']], workgroupSize: [64, 1, 1] },
    { inputs: [q, k, v], outputShape: [n * d + n], uniforms: { numQueries: n, numKeys: n, numHeads: 1, batch: 1, scaleLog2: 0.2 },
      constants: { HEAD_DIM: { type: 'i32', value: d }, D4: { type: 'i32', value: d / 4 }, ROWS: { type: 'i32', value: 64 }, KEY_TILE: { type: 'i32', value: 64 }, CAUSAL: { type: 'bool', value: false } },
      dispatch: [Math.ceil(n / 64), 1, 1] });
}
function ab(n: number, d = 40): Benchmark {
  return {
    name: `attention/ab/fwd/n${n}-d${d}`,
    setup: () => {
      const [q, k, v] = [1, 2, 3].map((seed) => tf.tensor(randomNormal(n * d, seed), [1, n, d]));
      const a = fwdVariant('fwd_new', NEW_FWD, n, d);
      const b = fwdVariant('fwd_old', OLD_FWD, n, d);
      return { ours: () => a(q, k, v), baseline: () => b(q, k, v), flops: 4 * n * n * d, dispose: () => tf.dispose([q, k, v]) };
    },
  };
}
benchmarks.push(ab(1024), ab(1024, 80), ab(1024), ab(2048));
