import { describe, expect, it } from 'vitest';
import type { EvaluationRecord } from '../engine/protocol';
import { formatChange, formatScore, orderConcepts, scoreRows } from './evaluation-view';

function record(clipI: number, clipT: number, dino: number): EvaluationRecord {
  return {
    scores: { clipI, clipT, dino },
    baseline: { clipI: 0.6, clipT: 0.3, dino: 0.4 },
    reading: '',
    settings: { model: 'tiny', steps: 1, size: 32, seeds: [1, 2], prompts: [], featureModels: [] },
    evaluatedAt: 0,
    durationMs: 0,
  };
}

describe('scoreRows', () => {
  it('puts each score beside its baseline, identity first', () => {
    const rows = scoreRows(record(0.8, 0.25, 0.7));
    expect(rows.map((r) => [r.label, r.value, r.baseline, r.change])).toEqual([
      ['CLIP-I', 0.8, 0.6, null],
      ['DINO', 0.7, 0.4, null],
      ['CLIP-T', 0.25, 0.3, null],
    ]);
  });

  it('gives the change from the evaluation before', () => {
    const rows = scoreRows(record(0.8, 0.25, 0.7), record(0.75, 0.3, 0.7));
    expect(rows.map((r) => Number(r.change!.toFixed(6)))).toEqual([0.05, 0, -0.05]);
  });
});

describe('formatScore / formatChange', () => {
  it('writes three decimals and the sign of a change', () => {
    expect(formatScore(0.56912)).toBe('0.569');
    expect(formatChange(0.0123)).toBe('+0.012');
    expect(formatChange(-0.0041)).toBe('−0.004');
    expect(formatChange(0.0002)).toBe('±0.000');
  });
});

describe('orderConcepts', () => {
  const concepts = [
    { id: 'a', e: record(0.7, 0.2, 0.5) },
    { id: 'b', e: null },
    { id: 'c', e: record(0.8, 0.3, 0.6) },
    { id: 'd', e: record(0.6, 0.25, 0.9) },
  ];
  const ids = (order: Parameters<typeof orderConcepts>[1]) => orderConcepts(concepts, order, (c) => c.e).map((c) => c.id);

  it('keeps the library order for newest', () => {
    expect(ids('newest')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('sorts by DINO for identity and by CLIP-T for editability, unevaluated last', () => {
    expect(ids('identity')).toEqual(['d', 'c', 'a', 'b']);
    expect(ids('editability')).toEqual(['c', 'd', 'a', 'b']);
  });
});
