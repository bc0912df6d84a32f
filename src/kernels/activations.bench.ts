import * as tf from '../gpu/tf';
import type { Benchmark } from './benchmark';
import { geglu, quickGelu } from './activations';
import { randomNormal } from '../common/random';

type Op = (x: tf.Tensor) => tf.Tensor;

/** Forward + backward (gradient under a fixed dy) of an activation: ours vs the composed formula. */
function forwardBackward(name: string, shape: number[], ours: Op, composed: Op, outShape: number[]): Benchmark {
  return {
    name,
    setup: () => {
      const x = tf.tensor(randomNormal(tf.util.sizeFromShape(shape), 1, 2), shape);
      const dy = tf.tensor(randomNormal(tf.util.sizeFromShape(outShape), 2), outShape);
      const run = (f: Op) => () => tf.valueAndGrad((t: tf.Tensor) => f(t))(x, dy);
      return { ours: run(ours), baseline: run(composed), dispose: () => tf.dispose([x, dy]) };
    },
  };
}

/** diffusers GEGLU: a, b = h.chunk(2, -1); a * gelu(b) (exact erf). */
const gegluComposed: Op = (h) => {
  const [a, b] = tf.split(h, 2, -1);
  return tf.mul(a, tf.mul(tf.mul(b, 0.5), tf.add(1, tf.erf(tf.mul(b, Math.SQRT1_2)))));
};
const quickGeluComposed: Op = (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));

// SD1.5 FeedForward at 512x512: 4096 tokens x 2*1280 in the first block, 256 tokens x 2*5120 in the
// mid block; CLIP ViT-L text MLP: 77 tokens x 3072.
export const benchmarks: Benchmark[] = [
  forwardBackward('geglu/4096x2x1280', [1, 4096, 2 * 1280], geglu, gegluComposed, [1, 4096, 1280]),
  forwardBackward('geglu/256x2x5120', [1, 256, 2 * 5120], geglu, gegluComposed, [1, 256, 5120]),
  forwardBackward('quick_gelu/77x3072', [1, 77, 3072], quickGelu, quickGeluComposed, [1, 77, 3072]),
];
