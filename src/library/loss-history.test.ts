import { describe, expect, it } from 'vitest';
import { LossHistory } from './loss-history';

function filled(n: number): LossHistory {
  const h = new LossHistory();
  for (let s = 1; s <= n; s++) h.record(s, 1 / s, 2 / s, s * 1e-4);
  return h;
}

describe('LossHistory', () => {
  it('keeps one point per step, past its first capacity (10,000 steps)', () => {
    const v = filled(10_000).view();
    expect(v.steps.length).toBe(10_000);
    expect([v.steps[0], v.steps[9_999]]).toEqual([1, 10_000]);
    expect(v.loss[4_999]).toBeCloseTo(1 / 5_000);
    expect(v.smoothed[9_999]).toBeCloseTo(2 / 10_000);
    expect(v.lr[99]).toBeCloseTo(1e-2);
  });

  it('drops the points from a replayed step on (a run resumed from an earlier checkpoint)', () => {
    const h = filled(27);
    h.record(21, 0.5, 0.5, 1e-4);
    const v = h.view();
    expect(v.steps.length).toBe(21);
    expect(v.steps[20]).toBe(21);
    expect(v.loss[20]).toBe(0.5);
  });

  it('copies the points up to a step to store, and starts again from them', () => {
    const kept = filled(30).until(25);
    expect(Array.from(kept.steps)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(kept.steps.buffer.byteLength).toBe(25 * 4); // its own arrays, not views of the history's
    const resumed = LossHistory.from(kept);
    resumed.record(26, 0.1, 0.2, 3e-4);
    expect(resumed.length).toBe(26);
    expect(resumed.view().loss[0]).toBe(1);
    expect(LossHistory.from(undefined).length).toBe(0);
  });
});
