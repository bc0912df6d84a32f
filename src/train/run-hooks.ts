/**
 * What `Trainer.run` reports and asks while it runs: progress after each step, checkpoints and
 * previews on their cadences, pause and abort before each step.
 */
import type { Checkpoint } from './checkpoint';
import type { SampleOptions, TrainingPreview } from './previews';

export interface LearningRates {
  ti?: number;
  lora?: number;
  /** The text encoder's LoRA. */
  textEncoder?: number;
}

export interface StepResult {
  /** Steps done, this one included. */
  step: number;
  loss: number;
  lr: LearningRates;
}

export interface TrainingProgress extends StepResult {
  steps: number;
  smoothedLoss: number;
  /** Over the steps this trainer ran since it was created or resumed. */
  stepsPerSecond: number;
}

export type RunOutcome = 'done' | 'paused' | 'aborted';

export interface RunHooks {
  onProgress?: (progress: TrainingProgress) => void;
  /** DreamBooth, before the first step: after each class image drawn (`done` of `total`). */
  onClassImages?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Checked before each step: true stops the loop (the trainer can `run` again later). */
  shouldPause?: () => boolean;
  /**
   * Given a checkpoint every `every` steps (none on the way without it), at the end and on pause;
   * one on the way once the step after it has proven finite.
   */
  checkpoints?: { every?: number; save: (checkpoint: Checkpoint) => Promise<void> | void };
  /** Given a preview every `every` steps and at the end. */
  previews?: { every: number; options?: SampleOptions; show: (preview: TrainingPreview) => void };
}

/** True when `step` is on a cadence of `every` steps. */
export function onCadence(step: number, every: number | undefined): boolean {
  return every !== undefined && step % every === 0;
}
