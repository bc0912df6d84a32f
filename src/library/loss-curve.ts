/**
 * A training run's loss against step, as the run record and the concept keep it: four arrays of
 * one length (structured-clonable, compact): the step, its loss, the smoothed loss and the
 * learning rate. A concept keeps at most `MAX_CURVE_POINTS` of them (`downsampleCurve`).
 */
import type { StudioError } from '../common/errors';

export interface LossCurve {
  /** Increasing, from 1. */
  steps: Uint32Array;
  loss: Float32Array;
  smoothed: Float32Array;
  /** The LoRA's rate where the run trains one, else the embedding's. */
  lr: Float32Array;
}

export const MAX_CURVE_POINTS = 2000;

/** A stored curve, checked; `unreadable(why)` makes the record's own error. */
export function readLossCurve(raw: unknown, unreadable: (why: string) => StudioError): LossCurve {
  const c = raw as Partial<Record<keyof LossCurve, unknown>> | null;
  if (typeof c !== 'object' || c === null || !(c.steps instanceof Uint32Array) || ![c.loss, c.smoothed, c.lr].every((a) => a instanceof Float32Array)) {
    throw unreadable('its loss curve is not four number arrays');
  }
  const { steps, loss, smoothed, lr } = c as LossCurve;
  if (![loss, smoothed, lr].every((a) => a.length === steps.length)) throw unreadable('its loss curve arrays differ in length');
  for (let i = 0; i < steps.length; i++) {
    if (steps[i] < 1 || (i > 0 && steps[i] <= steps[i - 1])) throw unreadable('its loss curve steps do not increase');
  }
  return { steps, loss, smoothed, lr };
}

/** At most `max` points of `curve`, evenly spread, the first and the last kept; copies. */
export function downsampleCurve(curve: LossCurve, max = MAX_CURVE_POINTS): LossCurve {
  const n = curve.steps.length;
  const m = Math.min(n, max);
  const pick = m <= 1 ? () => n - 1 : (i: number) => Math.round((i * (n - 1)) / (m - 1));
  const take = <T extends Uint32Array | Float32Array>(from: T, into: T): T => {
    for (let i = 0; i < m; i++) into[i] = from[pick(i)];
    return into;
  };
  return {
    steps: take(curve.steps, new Uint32Array(m)),
    loss: take(curve.loss, new Float32Array(m)),
    smoothed: take(curve.smoothed, new Float32Array(m)),
    lr: take(curve.lr, new Float32Array(m)),
  };
}
