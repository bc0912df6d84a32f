import { describe, expect, it } from 'vitest';
import type { EvaluationRecord } from '../engine/protocol';
import { lastTwo } from './concept-evaluations';

const record = (evaluatedAt: number): EvaluationRecord => ({
  scores: { clipI: 0.5, clipT: 0.2, dino: 0.4 },
  baseline: { clipI: 0.4, clipT: 0.3, dino: 0.3 },
  reading: '',
  settings: { model: 'm', steps: 1, size: 32, seeds: [1], prompts: [], featureModels: [] },
  evaluatedAt,
  durationMs: 1,
});

describe('lastTwo', () => {
  it('takes the newest evaluation and the one before it from the stored history (oldest first)', () => {
    const h = lastTwo([record(1), record(2), record(3)]);
    expect([h.latest?.evaluatedAt, h.previous?.evaluatedAt]).toEqual([3, 2]);
  });

  it('has no previous after one evaluation, and nothing before any', () => {
    expect(lastTwo([record(1)]).previous).toBeNull();
    expect(lastTwo(undefined)).toEqual({ latest: null, previous: null });
  });
});
