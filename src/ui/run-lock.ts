/**
 * One tab per training run: a run trains (or is discarded) only while this tab holds its Web Lock
 * (`navigator.locks`, shared by every tab and worker of the origin); another tab that asks is told
 * the run is active elsewhere. Where the page has no Web Locks (an insecure origin) runs go unlocked.
 */
import { StudioError } from '../common/errors';
import type { TrainingRun } from '../library/run-store';

export const runLockName = (runId: string) => `studio-run-${runId}`;

/** RunActiveElsewhere for `run`. */
export function activeElsewhere(run: Pick<TrainingRun, 'options'>): StudioError {
  return new StudioError('RunActiveElsewhere', `Training ${run.options.token} is open in another tab or window of the studio.`);
}

/** Runs `work` holding the run's lock; false (without running it) when another tab holds it. */
export async function whileHoldingRun(runId: string, work: () => Promise<void>, locks: LockManager | undefined = globalThis.navigator?.locks): Promise<boolean> {
  if (!locks) {
    await work();
    return true;
  }
  return locks.request(runLockName(runId), { ifAvailable: true }, async (lock) => {
    if (!lock) return false;
    await work();
    return true;
  });
}
