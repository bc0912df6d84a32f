/**
 * Perfusion's gate bias β as the page offers it. The gate is σ = sigmoid((sim − β)/τ)
 * (train/rank-one-edit.ts): a higher β shrinks it, so less of the concept and more of the prompt.
 */
export const GATE_BIAS = { min: 0.4, max: 1, step: 0.05, default: 0.7 } as const;

export const GATE_BIAS_HELP = 'Lower follows the concept more; higher follows the prompt more.';

/** Within the slider's range, on its steps. */
export function clampGateBias(value: number): number {
  if (!Number.isFinite(value)) return GATE_BIAS.default;
  const stepped = Math.round((value - GATE_BIAS.min) / GATE_BIAS.step) * GATE_BIAS.step + GATE_BIAS.min;
  return Number(Math.min(GATE_BIAS.max, Math.max(GATE_BIAS.min, stepped)).toFixed(2));
}
