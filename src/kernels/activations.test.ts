import * as tf from '../gpu/tf';
import { describe, it } from 'vitest';
import { geglu, quickGelu } from './activations';
import { expectMatchesReference, randomInput } from '../test/compare';

const quickGeluComposed = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));

describe('quickGelu kernel', () => {
  it.each([[[7]], [[3, 77, 13]], [[2, 4, 33, 5]]])('matches the composed formula, values and gradient, shape %j', async (shape) => {
    await expectMatchesReference({
      inputs: [randomInput(shape, shape.length, 3)],
      ours: quickGelu,
      reference: quickGeluComposed,
      rtol: 5e-4, // exp() on software Vulkan drivers differs from the CPU's by up to ~5e-4
    });
  });
});

/** diffusers GEGLU: a, b = h.chunk(2, -1); a * F.gelu(b) (exact erf GELU). */
const gegluComposed = (h: tf.Tensor) => {
  const [a, b] = tf.split(h, 2, -1);
  return tf.mul(a, tf.mul(tf.mul(b, 0.5), tf.add(1, tf.erf(tf.mul(b, Math.SQRT1_2)))));
};

describe('geglu kernel', () => {
  const shapes = [[[2]], [[7, 2 * 13]], [[3, 77, 2 * 33]], [[2, 5, 3, 2 * 41]]];
  it.each(shapes)('matches the composed formula, values and gradient, shape %j', async (shape) => {
    await expectMatchesReference({
      inputs: [randomInput(shape, shape.length + 11, 3)],
      ours: geglu,
      reference: gegluComposed,
      // tfjs' CPU erf is Abramowitz-Stegun 7.1.26 (1.5e-7 absolute); ours is about 1 ulp.
      rtol: 5e-6,
      gradientRtol: 5e-6,
    });
  });
});
