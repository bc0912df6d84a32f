import * as tf from '../gpu/tf';
import { describe, expect, it } from 'vitest';
import { groupNorm } from './group-norm';
import { groupNormComposed } from './norms.reference';
import { affine, expectTiledMatches, offset } from './norms.testing';
import { expectMatchesReference, randomInput } from '../test/compare';

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
