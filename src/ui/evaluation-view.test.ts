import { describe, expect, it } from 'vitest';
import type { EvaluationRecord } from '../engine/protocol';
import { formatChange, formatScore, orderConcepts, scoreRows, worldRows } from './evaluation-view';

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

describe('worldRows', () => {
  it("puts the shapes analyzer's scores beside the class word's, lower-is-better marked, only those measured", () => {
    const world = {
      sample: 'teal-heart',
      concept: { fidelity: { fgColorDist: 12.34, maskIou: 0.8123, nearestPhotoL1: 5, bgDist: 2 }, editability: { position: 0.5, background: 1, size: 0 } },
      baseline: { fidelity: { fgColorDist: 140, maskIou: 0.6, nearestPhotoL1: 30, bgDist: 80 }, editability: { position: 1, background: 1, size: 0.5 } },
    };
    expect(worldRows({ ...record(0.8, 0.25, 0.7), world }.world).map((r) => [r.label, r.value, r.baseline])).toEqual([
      ['Foreground colour distance ↓', '12.3', '140.0'],
      ['Mask IoU ↑', '0.812', '0.600'],
      ['Background accuracy ↑', '100%', '100%'],
      ['Position accuracy ↑', '50%', '100%'],
      ['Size accuracy ↑', '0%', '50%'],
    ]);
    const two = { ...world, concept: { ...world.concept, fidelity: { ...world.concept.fidelity, twoColorBalance: 0.75 } }, baseline: { ...world.baseline, fidelity: { ...world.baseline.fidelity, twoColorBalance: 0 } } };
    expect(worldRows(two).find((r) => r.key === 'twoColorBalance')).toMatchObject({ value: '0.750', baseline: '0.000' });
  });

  it('is empty for an evaluation without them (another model, or before they were scored)', () => {
    expect(worldRows(record(0.8, 0.25, 0.7).world)).toEqual([]);
  });
});
