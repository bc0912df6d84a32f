import { describe, expect, it } from 'vitest';
import { SAMPLING_STEP_SHARE, TrainingEta } from './training-eta';

/** Steps `from`..`to` done `ms` apart after `at`; the time of the last. */
function steps(eta: TrainingEta, from: number, to: number, at: number, ms: number): number {
  for (let s = from; s <= to; s++) eta.stepDone(s, (at += ms));
  return at;
}

describe('TrainingEta', () => {
  it('says nothing before the first step', () => {
    expect(new TrainingEta({ steps: 10, previewEvery: null, previewSamplingSteps: 15 }, 0).secondsLeft()).toBeNull();
  });

  it('leaves the warm-up of the first step out of the pace', () => {
    const eta = new TrainingEta({ steps: 100, previewEvery: null, previewSamplingSteps: 15 }, 0);
    eta.stepDone(1, 60_000); // a minute of shader compiles and latents caching
    expect(eta.secondsLeft()).toBeNull(); // not 99 minutes: the pace is not known yet
    eta.stepDone(2, 61_000);
    expect(eta.secondsLeft()).toBe(98);
    steps(eta, 3, 10, 61_000, 1000);
    expect(eta.secondsLeft()).toBe(90); // 90 steps at 1 s, not at the 6.9 s average
  });

  it('is not thrown by a slow step now and then (a checkpoint)', () => {
    const eta = new TrainingEta({ steps: 50, previewEvery: null, previewSamplingSteps: 15 }, 0);
    let at = steps(eta, 1, 9, 0, 2000);
    eta.stepDone(10, (at += 30_000));
    at = steps(eta, 11, 12, at, 2000);
    expect(eta.secondsLeft()).toBe(38 * 2);
  });

  it('counts the previews still to come at the time the last one took', () => {
    const eta = new TrainingEta({ steps: 40, previewEvery: 5, previewSamplingSteps: 15 }, 0);
    let at = steps(eta, 1, 5, 0, 1000);
    // Step 5's preview is still to come: 35 steps and 8 previews at the guessed 15 × 1/3 × 1 s.
    expect(eta.secondsLeft()).toBeCloseTo(35 + 8 * 15 * SAMPLING_STEP_SHARE);
    eta.previewDone(5, (at += 12_000));
    expect(eta.secondsLeft()).toBe(35 + 7 * 12); // the steps after the preview are not slowed by it
    at = steps(eta, 6, 7, at, 1000);
    expect(eta.secondsLeft()).toBe(33 + 7 * 12);
  });

  it('is not 0 s while the final preview is to come', () => {
    const eta = new TrainingEta({ steps: 3, previewEvery: 5, previewSamplingSteps: 15 }, 0);
    const at = steps(eta, 1, 3, 0, 1000);
    expect(eta.secondsLeft()).toBeCloseTo(15 * SAMPLING_STEP_SHARE);
    eta.previewDone(3, at + 4000);
    expect(eta.secondsLeft()).toBe(0);
  });
});
