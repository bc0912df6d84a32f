/**
 * The time a training run has left, from the times its steps and previews took (given, in ms):
 * the steps left at the pace of the recent steps (the median of the last 20; the first step, its
 * warm-up of shader compiles and latents caching, is left out, and a checkpoint now and then does
 * not set it), plus the previews still to come at the time the last one took.
 */
import { previewSteps } from './training-policy';

export interface EtaPlan {
  /** The run's steps. */
  steps: number;
  /** Steps between previews; null: the run previews nothing. */
  previewEvery: number | null;
  /** Sampling steps of a preview (for the guess before one is measured). */
  previewSamplingSteps: number;
}

const RECENT_STEPS = 20;
/**
 * Before a preview is measured, one sampling step is taken to cost a third of a training step
 * (a UNet forward pass, without the backward pass and the update).
 */
export const SAMPLING_STEP_SHARE = 1 / 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export class TrainingEta {
  private lastAt: number;
  private step: number | null = null;
  private previewedStep: number | null = null;
  private warmedUp = false;
  private readonly recentMs: number[] = [];
  private previewMs: number | null = null;

  /** `startedAt`: when the trainer started (or resumed) stepping. */
  constructor(
    private readonly plan: EtaPlan,
    startedAt: number,
  ) {
    this.lastAt = startedAt;
  }

  /** Step `step` ended at `at`. */
  stepDone(step: number, at: number): void {
    const ms = at - this.lastAt;
    if (!this.warmedUp) this.warmedUp = true;
    else {
      this.recentMs.push(ms);
      if (this.recentMs.length > RECENT_STEPS) this.recentMs.shift();
    }
    this.step = step;
    this.lastAt = at;
  }

  /** The preview of step `step` ended at `at`. */
  previewDone(step: number, at: number): void {
    this.previewMs = at - this.lastAt;
    this.previewedStep = step;
    this.lastAt = at;
  }

  /** Seconds left; null until a step after the warm-up is measured (or when the warm-up was all). */
  secondsLeft(): number | null {
    if (this.step === null || this.recentMs.length === 0) return null;
    const stepMs = median(this.recentMs);
    const { steps, previewEvery, previewSamplingSteps } = this.plan;
    let ms = Math.max(0, steps - this.step) * stepMs;
    if (previewEvery !== null) {
      const after = this.previewedStep === this.step ? this.step : this.step - 1;
      const previewMs = this.previewMs ?? previewSamplingSteps * SAMPLING_STEP_SHARE * stepMs;
      ms += previewSteps(steps, previewEvery, after).length * previewMs;
    }
    return ms / 1000;
  }
}
