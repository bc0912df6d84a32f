import * as tf from '../gpu/tf';
import { describe, expect, it } from 'vitest';
import { layerNorm } from './layer-norm';
import { layerNormComposed } from './norms.reference';
import { affine, expectTiledMatches, offset } from './norms.testing';
import { expectMatchesReference, randomInput } from '../test/compare';

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
