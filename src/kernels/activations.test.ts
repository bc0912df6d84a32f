import * as tf from '../engine/tf';
import { describe, it } from 'vitest';
import { quickGelu } from './activations';
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
