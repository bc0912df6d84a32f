import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { profileDispatches } from '../gpu/dispatch-profile';
import { geglu, quickGelu } from './activations';

describe('our kernels in a dispatch profile', () => {
  it('are named by their kernel name, one dispatch each, beside tfjs programs', async () => {
    const x = tf.tensor2d([0.5, -1, 2, 3], [1, 4]);
    let out: tf.Tensor[] = [];
    const { dispatches } = await profileDispatches(() => {
      out = [quickGelu(x), geglu(x), tf.neg(x)];
    });
    expect(dispatches.map((d) => d.program)).toEqual(['quick_gelu', 'geglu', 'UnaryOpProgram']);
    tf.dispose([x, ...out]);
  });
});
