import { describe, expect, it } from 'vitest';
import { StudioError } from '../common/errors';
import { downsampleCurve, MAX_CURVE_POINTS, readLossCurve, type LossCurve } from './loss-curve';

function curve(n: number): LossCurve {
  const steps = Uint32Array.from({ length: n }, (_, i) => i + 1);
  return { steps, loss: Float32Array.from(steps, (s) => 1 / s), smoothed: Float32Array.from(steps, (s) => 2 / s), lr: new Float32Array(n).fill(1e-4) };
}

const unreadable = (why: string) => new StudioError('ConceptUnreadable', why);

describe('downsampleCurve', () => {
  it('keeps a short curve whole', () => {
    const c = downsampleCurve(curve(40));
    expect(Array.from(c.steps)).toEqual(Array.from(curve(40).steps));
  });

  it('keeps at most 2,000 points of a 10,000-step run, its first and last step included', () => {
    const c = downsampleCurve(curve(10_000));
    expect(c.steps.length).toBe(MAX_CURVE_POINTS);
    expect([c.steps[0], c.steps[MAX_CURVE_POINTS - 1]]).toEqual([1, 10_000]);
    expect(c.loss[MAX_CURVE_POINTS - 1]).toBeCloseTo(1 / 10_000);
    for (let i = 1; i < c.steps.length; i++) expect(c.steps[i]).toBeGreaterThan(c.steps[i - 1]);
  });
});

describe('readLossCurve', () => {
  it('reads a curve back as it was', () => {
    const c = curve(5);
    expect(readLossCurve(c, unreadable)).toEqual(c);
  });

  it('refuses arrays that are not a curve', () => {
    expect(() => readLossCurve({ ...curve(3), loss: [1, 2, 3] }, unreadable)).toThrow('four number arrays');
    expect(() => readLossCurve({ ...curve(3), lr: new Float32Array(2) }, unreadable)).toThrow('differ in length');
    expect(() => readLossCurve({ ...curve(3), steps: Uint32Array.of(1, 3, 2) }, unreadable)).toThrow('do not increase');
  });
});
