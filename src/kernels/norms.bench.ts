import * as tf from '../gpu/tf';
import type { Benchmark } from './benchmark';
import { groupNorm, type GroupNormOptions } from './group-norm';
import { layerNorm } from './layer-norm';
import { groupNormComposed, layerNormComposed } from './norms.reference';
import { randomNormal } from '../common/random';

type Norm = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;

/** Forward + backward: the gradients of sum(norm(x) * dy) w.r.t. x, gamma and beta. */
function forwardBackward(name: string, shape: number[], ours: Norm, baseline: Norm): Benchmark {
  return {
    name,
    setup: () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const channels = shape[shape.length - 1];
      const x = tf.tensor(randomNormal(n, 1), shape);
      const dy = tf.tensor(randomNormal(n, 2), shape);
      const gamma = tf.tensor(randomNormal(channels, 3, 0.3).map((v) => 1 + v));
      const beta = tf.tensor(randomNormal(channels, 4, 0.2));
      const grads = (f: Norm) => () => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(a, g, b))([x, gamma, beta], dy);
      return { ours: grads(ours), baseline: grads(baseline), dispose: () => tf.dispose([x, dy, gamma, beta]) };
    },
  };
}

function groupNormBench(name: string, shape: number[], options: GroupNormOptions): Benchmark {
  return forwardBackward(
    name,
    shape,
    (x, g, b) => groupNorm(x, g, b, options),
    (x, g, b) => groupNormComposed(x, g, b, options),
  );
}

function layerNormBench(name: string, shape: number[]): Benchmark {
  return forwardBackward(
    name,
    shape,
    (x, g, b) => layerNorm(x, g, b, { eps: 1e-5 }),
    (x, g, b) => layerNormComposed(x, g, b, { eps: 1e-5 }),
  );
}

// SD1.5 at 256 and 512 px: ResnetBlock2D's norm + SiLU on the first down block's 32x32 / 64x64
// latents; the transformers' LayerNorm at 32x32 tokens, and CLIP's final LayerNorm on 77 tokens.
export const benchmarks: Benchmark[] = [
  groupNormBench('norm/group_silu/1x32x32x320', [1, 32, 32, 320], { groups: 32, eps: 1e-5, silu: true }),
  groupNormBench('norm/group_silu/1x64x64x320', [1, 64, 64, 320], { groups: 32, eps: 1e-5, silu: true }),
  groupNormBench('norm/group/1x1024x320', [1, 1024, 320], { groups: 32, eps: 1e-6 }),
  layerNormBench('norm/layer/1x1024x320', [1, 1024, 320]),
  layerNormBench('norm/layer/1x77x768', [1, 77, 768]),
];
