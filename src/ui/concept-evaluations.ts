/**
 * A library card's evaluation history: the list carries only the latest scores (the summary), so
 * the evaluation before it and the latest's settings are read from the stored concept when the
 * card's evaluation is open, again after each new evaluation.
 */
import { useEffect, useState } from 'react';
import type { EvaluationRecord } from '../engine/protocol';
import type { ConceptSummary } from '../library/concept-record';
import { conceptStore } from './library';

export interface EvaluationHistory {
  /** The latest evaluation in full (settings too); null until read, or when there is none. */
  latest: EvaluationRecord | null;
  /** The one before it, for the change. */
  previous: EvaluationRecord | null;
}

/** The latest and the one before, of a concept's stored evaluations (oldest first). */
export function lastTwo(evaluations: readonly EvaluationRecord[] | undefined): EvaluationHistory {
  return { latest: evaluations?.at(-1) ?? null, previous: evaluations?.at(-2) ?? null };
}

export function useEvaluationHistory(concept: Pick<ConceptSummary, 'id' | 'evaluation'>, open: boolean): EvaluationHistory {
  const [history, setHistory] = useState<EvaluationHistory>({ latest: null, previous: null });
  const at = concept.evaluation?.evaluatedAt;
  useEffect(() => {
    if (!open || at === undefined) return;
    let live = true;
    conceptStore.get(concept.id).then(
      (c) => live && setHistory(lastTwo(c?.evaluations)),
      () => live && setHistory({ latest: null, previous: null }),
    );
    return () => {
      live = false;
    };
  }, [concept.id, open, at]);
  return history;
}
