import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { quickGelu } from './activations';

describe('kernel framework dispatch', () => {
  it('flat kernels cover tensors past 65535 workgroups in one dimension', async () => {
    const n = 64 * 65535 + 1000; // one more workgroup row than a 1-D dispatch can hold
    const x = tf.fill([n], -1);
    const y = quickGelu(x);
    const data = await y.data();
    const expected = -1 / (1 + Math.exp(1.702));
    expect(Math.abs(data[0] - expected)).toBeLessThan(1e-6);
    expect(Math.abs(data[n - 1] - expected)).toBeLessThan(1e-6);
    expect(data.every((v) => Math.abs(v - expected) < 1e-6)).toBe(true);
    tf.dispose([x, y]);
  });
});
