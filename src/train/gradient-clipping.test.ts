/**
 * Gradient clipping against torch.nn.utils.clip_grad_norm_'s formula on a small example: grads
 * [3, 4] and [[0, 12]] have global norm 13; torch scales both by max / (13 + 1e-6) when that is
 * below 1 and leaves them alone otherwise. The squared norm read back with the loss is what the
 * trainer's finiteness check reads.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { expectNoLeaks } from '../test/compare';
import { clipFactor, clipGradients, lossAndSquaredNorm } from './gradient-clipping';

const example = () => [tf.tensor1d([3, 4]), tf.tensor2d([[0, 12]])];

describe('gradient clipping', () => {
  it('reads the loss and the squared global norm back as one pair; a non-finite gradient makes it non-finite', async () => {
    await expectNoLeaks(async () => {
      const loss = tf.scalar(0.5);
      const grads = example();
      const read = lossAndSquaredNorm(loss, grads);
      expect(Array.from(await read.data())).toEqual([0.5, 169]);
      const bad = [...grads, tf.tensor1d([1, NaN])];
      const readBad = lossAndSquaredNorm(loss, bad);
      expect(Number.isNaN((await readBad.data())[1])).toBe(true);
      // more gradients than a shader may bind buffers
      const many = Array.from({ length: 40 }, (_, i) => tf.tensor1d([i, 1]));
      const readMany = lossAndSquaredNorm(loss, many);
      expect(Array.from(await readMany.data())).toEqual([0.5, many.reduce((sum, _, i) => sum + i * i + 1, 0)]);
      tf.dispose([loss, read, readBad, readMany, ...bad, ...many]);
    });
  });

  it('scales by max / (norm + 1e-6) above the max, as torch does: the clipped norm is the max', async () => {
    const factor = clipFactor(13, 1);
    expect(factor).toBe(1 / (13 + 1e-6));
    await expectNoLeaks(async () => {
      const grads = example();
      const clipped = clipGradients(grads, factor);
      const [a, b] = await Promise.all(clipped.map((g) => g.data()));
      expect(Array.from(a)).toEqual([Math.fround(3 * Math.fround(factor)), Math.fround(4 * Math.fround(factor))]);
      expect(Array.from(b)).toEqual([0, Math.fround(12 * Math.fround(factor))]);
      expect(Math.hypot(...a, ...b)).toBeCloseTo(1, 6);
      expect(clipped[0].shape).toEqual([2]);
      expect(clipped[1].shape).toEqual([1, 2]);
      tf.dispose([...grads, ...clipped]);
    });
  });

  it('leaves gradients below the max (or with no max) untouched: the same tensors', async () => {
    expect(clipFactor(13, 20)).toBe(1);
    expect(clipFactor(13, 13 + 1e-6)).toBe(1);
    expect(clipFactor(1e30, null)).toBe(1);
    await expectNoLeaks(async () => {
      const grads = example();
      const same = clipGradients(grads, clipFactor(13, 20));
      expect(same[0]).toBe(grads[0]);
      expect(same[1]).toBe(grads[1]);
      expect(Array.from(await same[1].data())).toEqual([0, 12]);
      tf.dispose(grads);
    });
  });
});
