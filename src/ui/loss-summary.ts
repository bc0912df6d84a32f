/** A loss curve in words, beside its chart: the last step's loss and the lowest smoothed loss. */
import type { LossCurve } from '../library/loss-curve';

export function lossSummary(curve: LossCurve | null): string {
  const n = curve?.steps.length ?? 0;
  if (!curve || n === 0) return 'No steps yet.';
  let low = 0;
  for (let i = 1; i < n; i++) if (curve.smoothed[i] < curve.smoothed[low]) low = i;
  const last = n - 1;
  return `Step ${curve.steps[last]}: loss ${curve.loss[last].toFixed(4)}, smoothed ${curve.smoothed[last].toFixed(4)}; lowest smoothed ${curve.smoothed[low].toFixed(4)} at step ${curve.steps[low]}.`;
}
