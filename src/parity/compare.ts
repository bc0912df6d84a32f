/** Parity arithmetic and tolerances (tiny-sd-golden/README.md, "suggested tolerance"). */

export interface ParityLine {
  name: string;
  maxAbsErr: number;
  maxAbsGolden: number;
  relErr: number;
  ok: boolean;
}

/** Relative tolerance for a golden tensor, by kind; 0 means exact. */
export function toleranceFor(name: string, integer: boolean): number {
  if (integer) return 0;
  if (name.startsWith('sched.')) return 1e-5;
  if (name.startsWith('pipe.') || name.includes('grad') || name.startsWith('lora.') && name.endsWith('.weight')) return 5e-3;
  if (name === 'ti.loss' || name === 'lora.loss') return 5e-3;
  return 1e-3;
}

/** `tolerance`: the golden's own for this tensor (golden.json `tensors.<name>.suggested_tolerance`), else by kind. */
export function compareTensor(name: string, ours: ArrayLike<number>, golden: ArrayLike<number>, integer: boolean, tolerance?: number): ParityLine {
  if (ours.length !== golden.length) return { name, maxAbsErr: Infinity, maxAbsGolden: NaN, relErr: Infinity, ok: false };
  let maxAbsErr = 0;
  let maxAbsGolden = 0;
  for (let i = 0; i < golden.length; i++) {
    const err = Math.abs(ours[i] - golden[i]);
    if (!(err <= maxAbsErr)) maxAbsErr = err; // NaN stays
    maxAbsGolden = Math.max(maxAbsGolden, Math.abs(golden[i]));
  }
  const relErr = maxAbsGolden === 0 ? maxAbsErr : maxAbsErr / maxAbsGolden;
  const tol = integer ? 0 : (tolerance ?? toleranceFor(name, integer));
  return { name, maxAbsErr, maxAbsGolden, relErr, ok: tol === 0 ? maxAbsErr === 0 : relErr <= tol };
}

export function formatLine(l: ParityLine): string {
  const e = (x: number) => (Number.isFinite(x) ? x.toExponential(3) : String(x));
  return `${l.name} ${e(l.maxAbsErr)} ${e(l.maxAbsGolden)} ${e(l.relErr)} ${l.ok ? 'ok' : 'FAIL'}`;
}

/** A golden's numeric suggested tolerance for a tensor (golden.json `tensors`, as the methods golden has), if any. */
export function suggestedTolerance(json: Record<string, unknown>, name: string): number | undefined {
  const tol = (json.tensors as Record<string, { suggested_tolerance?: unknown }> | undefined)?.[name]?.suggested_tolerance;
  return typeof tol === 'number' && tol > 0 ? tol : undefined;
}
