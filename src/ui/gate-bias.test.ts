import { describe, expect, it } from 'vitest';
import { clampGateBias, GATE_BIAS, GATE_BIAS_HELP } from './gate-bias';

describe("Perfusion's gate bias slider", () => {
  it('keeps values in 0.4–1.0 on steps of 0.05, 0.7 when unreadable', () => {
    expect(clampGateBias(0.7)).toBe(0.7);
    expect(clampGateBias(0.1)).toBe(0.4);
    expect(clampGateBias(3)).toBe(1);
    expect(clampGateBias(0.62)).toBe(0.6);
    expect(clampGateBias(0.63)).toBe(0.65);
    expect(clampGateBias(Number.NaN)).toBe(GATE_BIAS.default);
  });

  it('says the direction the gate formula gives: a higher bias, less concept', () => {
    const gate = (sim: number, bias: number) => 1 / (1 + Math.exp(-(sim - bias) / 0.15));
    expect(gate(0.8, 0.9)).toBeLessThan(gate(0.8, 0.5));
    expect(GATE_BIAS_HELP).toMatch(/^Lower follows the concept more; higher follows the prompt more\.$/);
  });
});
