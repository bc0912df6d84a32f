import { describe, expect, it } from 'vitest';
import { previewCadence, previewSteps } from './training-policy';

describe('previewCadence', () => {
  it('previews a 40-step run 8 times, the last at its end', () => {
    const { every } = previewCadence(40);
    expect(previewSteps(40, every)).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
  });

  it('gives a long run about 8 previews, and one at the end', () => {
    const at = previewSteps(500, previewCadence(500).every);
    expect(at.length).toBeGreaterThanOrEqual(8);
    expect(at.length).toBeLessThanOrEqual(9);
    expect(at.at(-1)).toBe(500);
  });

  it('keeps previews 5 steps apart at the least: a short run previews only at its end', () => {
    expect(previewCadence(12).every).toBe(5);
    expect(previewSteps(4, previewCadence(4).every)).toEqual([4]);
  });
});

describe('previewSteps', () => {
  it('counts only the previews still to come after a step', () => {
    expect(previewSteps(40, 5, 12)).toEqual([15, 20, 25, 30, 35, 40]);
    expect(previewSteps(40, 5, 15)).toEqual([20, 25, 30, 35, 40]);
    expect(previewSteps(42, 5, 40)).toEqual([42]);
    expect(previewSteps(40, 5, 40)).toEqual([]);
  });
});
