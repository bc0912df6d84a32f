/** A library concept's stored evaluations as its card reads them: the latest, and the one before it. */
import type { EvaluationRecord } from '../engine/protocol';
import type { ConceptSummary } from '../library/concept-record';

export function evaluationsOf(c: ConceptSummary & { evaluations?: readonly EvaluationRecord[] }): { latest: EvaluationRecord | null; previous: EvaluationRecord | null } {
  const all = c.evaluations ?? [];
  return { latest: all.at(-1) ?? null, previous: all.at(-2) ?? null };
}
