/**
 * The current training run's loss history in the page: one point per step from its progress
 * reports, shown by the loss chart (the store's `losses`), stored with the run at each checkpoint
 * and pause, and with its concept when it is done. A resumed run goes on from its stored points.
 */
import { LossHistory } from '../library/loss-history';
import type { LossCurve } from '../library/loss-curve';
import type { TrainingRun } from '../library/run-store';
import type { TrainingReport } from '../engine/protocol';
import { useStudio } from './store';

let history = new LossHistory();
let historyOf: string | null = null;

/** Shows `run`'s points: those kept in the page for it, else those stored with it. */
export function showLossesOf(run: TrainingRun): void {
  if (historyOf !== run.runId) {
    history = LossHistory.from(run.losses);
    historyOf = run.runId;
  }
  useStudio.setState({ losses: history.view() });
}

/** Records a step's report (the chart shows it with `showRecordedLosses`). */
export function recordLoss(report: TrainingReport): void {
  history.record(report.step, report.loss, report.smoothedLoss, report.lr.lora ?? report.lr.ti ?? report.lr.textEncoder ?? NaN);
}

export function showRecordedLosses(): void {
  useStudio.setState({ losses: history.view() });
}

/** The points up to `step`, to store with the run or its concept. */
export function lossesUntil(step?: number): LossCurve {
  return history.until(step);
}

export function forgetLosses(): void {
  history = new LossHistory();
  historyOf = null;
  useStudio.setState({ losses: null });
}
