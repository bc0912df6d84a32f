/** Inputs and checks shared by the GroupNorm and LayerNorm kernel tests. */
import * as tf from '../gpu/tf';
import { expectClose, expectNoLeaks, onBackend, randomInput, type Input } from '../test/compare';

/** gamma around 1, beta around 0, as trained norms look. */
export function affine(channels: number, seed: number): [Input, Input] {
  const gamma = randomInput([channels], seed, 0.3);
  gamma.data = gamma.data.map((v) => 1 + v);
  return [gamma, randomInput([channels], seed + 1, 0.2)];
}

export function offset(input: Input, by: number): Input {
  return { shape: input.shape, data: input.data.map((v) => v + by) };
}

/**
 * Tiling x and dy leaves every normalized slice's statistics unchanged, so `op` on the tiled
 * input must equal the tiled `op` on the small one, and dgamma, dbeta scale by the tile count.
 * For shapes too big for a CPU reference (grid-indexing paths).
 */
export async function expectTiledMatches(op: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor, shape: number[], reps: number[]) {
  const tiles = reps.reduce((a, b) => a * b, 1);
  const [gamma, beta] = affine(shape[shape.length - 1], 37);
  const results = await expectNoLeaks(() =>
    onBackend('webgpu', async () => {
      const inputs = [randomInput(shape, 29), randomInput(shape, 31), gamma, beta].map((i) => tf.tensor(i.data, i.shape));
      const [x, dy, g, b] = inputs;
      const out = tf.tidy(() => {
        const [bigX, bigDy] = [tf.tile(x, reps), tf.tile(dy, reps)];
        const small = [op(x, g, b), ...tf.grads(op)([x, g, b], dy)];
        const big = [op(bigX, g, b), ...tf.grads(op)([bigX, g, b], bigDy)];
        return [tf.tile(small[0], reps), tf.tile(small[1], reps), tf.mul(small[2], tiles), tf.mul(small[3], tiles), ...big];
      });
      const values = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose([...inputs, ...out]);
      return values;
    }),
  );
  ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => expectClose(results[i + 4], results[i], 1e-3, what));
}
