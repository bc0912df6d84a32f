import * as tf from '../gpu/tf';
import { describe, expect, it } from 'vitest';
import { groupNorm, layerNorm } from './norms';
import { groupNormComposed, layerNormComposed } from './norms.reference';
import { expectClose, expectMatchesReference, expectNoLeaks, onBackend, randomInput, type Input } from '../test/compare';

/** gamma around 1, beta around 0, as trained norms look. */
function affine(channels: number, seed: number): [Input, Input] {
  const gamma = randomInput([channels], seed, 0.3);
  gamma.data = gamma.data.map((v) => 1 + v);
  return [gamma, randomInput([channels], seed + 1, 0.2)];
}

function offset(input: Input, by: number): Input {
  return { shape: input.shape, data: input.data.map((v) => v + by) };
}

/**
 * Tiling x and dy leaves every normalized slice's statistics unchanged, so `op` on the tiled
 * input must equal the tiled `op` on the small one, and dgamma, dbeta scale by the tile count.
 * For shapes too big for a CPU reference (grid-indexing paths).
 */
async function expectTiledMatches(op: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor, shape: number[], reps: number[]) {
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

describe('groupNorm kernel', () => {
  it.each([
    // shape, groups, eps, silu
    [[2, 5, 7, 64], 32, 1e-5, false], // C/G = 2, odd spatial
    [[2, 5, 7, 64], 32, 1e-6, true],
    [[1, 3, 3, 96], 32, 1e-5, true], // C/G = 3
    [[2, 4, 3, 32], 32, 1e-6, false], // C/G = 1
    [[1, 6, 5, 40], 4, 1e-5, true], // C/G = 10 (SD's 320 / 32)
    [[2, 77, 24], 8, 1e-6, false], // rank 3 [B, N, C]; 77 rows: chunks of 32, 32 and 13 rows
    [[1, 24, 24, 64], 2, 1e-5, false], // C/G = 32, 18432 elements per group in 18 row chunks
    [[1, 40, 40, 8], 2, 1e-6, true], // 1600 rows in 50 chunks
    [[2, 5, 3, 6], 3, 1e-5, true], // C % 4 != 0: one element per invocation
    [[1, 7, 30], 5, 1e-6, false],
  ] as const)('matches the composed formula, values and gradients, %j groups %d eps %d silu %s', async (shape, groups, eps, silu) => {
    const C = shape[shape.length - 1];
    const [gamma, beta] = affine(C, 11);
    await expectMatchesReference({
      inputs: [randomInput([...shape], shape.length + C, 2), gamma, beta],
      ours: (x, g, b) => groupNorm(x, g, b, { groups, eps, silu }),
      reference: (x, g, b) => groupNormComposed(x, g, b, { groups, eps, silu }),
      rtol: silu ? 5e-4 : 1e-4, // exp() on software Vulkan drivers differs from the CPU's by up to ~5e-4
    });
  });

  it('keeps its statistics accurate for inputs far from zero mean', async () => {
    const [gamma, beta] = affine(32, 5);
    await expectMatchesReference({
      inputs: [offset(randomInput([1, 16, 16, 32], 3), 300), gamma, beta],
      ours: (x, g, b) => groupNorm(x, g, b, { groups: 4, eps: 1e-5 }),
      reference: (x, g, b) => groupNormComposed(x, g, b, { groups: 4, eps: 1e-5 }),
      rtol: 1e-4,
    });
  });

  it('merges the statistics of chunks with different means', async () => {
    // 576 rows of 64 channels, 2 groups, 18 row chunks; a ramp over rows shifts their means.
    const x = randomInput([1, 24, 24, 64], 17);
    x.data = x.data.map((v, i) => v + (3 * Math.floor(i / 64)) / 576);
    const [gamma, beta] = affine(64, 19);
    await expectMatchesReference({
      inputs: [x, gamma, beta],
      ours: (x, g, b) => groupNorm(x, g, b, { groups: 2, eps: 1e-5 }),
      reference: (x, g, b) => groupNormComposed(x, g, b, { groups: 2, eps: 1e-5 }),
      rtol: 1e-4,
    });
  });

  it('indexes past 65535 workgroups per grid dimension', async () => {
    // 4.3M elements, one per invocation as C % 4 != 0: 67500 workgroups, a 2-D grid.
    await expectTiledMatches((x, g, b) => groupNorm(x, g, b, { groups: 1, eps: 1e-5, silu: true }), [1, 4, 4, 3], [1, 300, 300, 1]);
  });

  it('rejects a group count that does not divide the channels', () => {
    const x = tf.zeros([1, 2, 2, 6]);
    const g = tf.ones([6]);
    expect(() => groupNorm(x, g, g, { groups: 4, eps: 1e-5 })).toThrow(/divisor/);
    tf.dispose([x, g]);
  });
});

describe('layerNorm kernel', () => {
  it.each([
    [[2, 5, 77], 1e-5],
    [[2, 768], 1e-5],
    [[1, 3, 768], 1e-6],
    [[70, 320], 1e-5], // 70 rows: several gradient chunks
    [[4, 3], 1e-5],
  ] as const)('matches the composed formula, values and gradients, %j eps %d', async (shape, eps) => {
    const D = shape[shape.length - 1];
    const [gamma, beta] = affine(D, 13);
    await expectMatchesReference({
      inputs: [randomInput([...shape], D, 2), gamma, beta],
      ours: (x, g, b) => layerNorm(x, g, b, { eps }),
      reference: (x, g, b) => layerNormComposed(x, g, b, { eps }),
      rtol: 1e-4,
    });
  });

  it('keeps its statistics accurate for inputs far from zero mean', async () => {
    const [gamma, beta] = affine(320, 7);
    await expectMatchesReference({
      inputs: [offset(randomInput([3, 320], 5), 300), gamma, beta],
      ours: (x, g, b) => layerNorm(x, g, b, { eps: 1e-5 }),
      reference: (x, g, b) => layerNormComposed(x, g, b, { eps: 1e-5 }),
      rtol: 1e-4,
    });
  });

  it('indexes past 65535 workgroups per grid dimension', async () => {
    // 600000 rows, 8 per workgroup: 75000 workgroups, a 2-D grid.
    await expectTiledMatches((x, g, b) => layerNorm(x, g, b, { eps: 1e-5 }), [6, 4], [100000, 1]);
  });

  it('rejects gamma of the wrong size', () => {
    const x = tf.zeros([2, 8]);
    const g = tf.ones([4]);
    expect(() => layerNorm(x, g, g, { eps: 1e-5 })).toThrow(/gamma/);
    tf.dispose([x, g]);
  });
});
