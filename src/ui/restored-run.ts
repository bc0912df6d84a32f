/**
 * A run the last visit left unfinished, as the page tells it after a reload: failed with its error,
 * paused with its step, loss and previews, or interrupted (the tab closed). Whether it can resume is
 * whether it has a checkpoint (`hasCheckpoint`): a run stored at step 0 has none.
 */
import type { TrainingRun } from '../library/run-store';
import type { TrainingSample } from '../engine/protocol';
import type { TrainingStatus } from './store';

export function restoredTraining(run: TrainingRun): { training: TrainingStatus; samples: TrainingSample[] } {
  const samples = run.previews ?? [];
  if (run.state === 'failed' && run.error) return { training: { state: 'failed', run, error: run.error }, samples };
  if (run.state === 'paused') return { training: { state: 'paused', run, result: { step: run.step, loss: run.loss ?? NaN } }, samples };
  return { training: { state: 'interrupted', run }, samples };
}

/** The stored run's step follows its checkpoints, so step 0 means there is none to resume from. */
export function hasCheckpoint(run: Pick<TrainingRun, 'step'>): boolean {
  return run.step > 0;
}
