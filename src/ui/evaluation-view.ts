/**
 * A concept's scores as its card shows them: each of the three beside the class-word baseline,
 * and the change from the evaluation before; and the library's order by them.
 */
import type { EvaluationScores } from '../engine/protocol';

/** What the rows need of an evaluation (the library's summary of the latest has it). */
type Scored = { scores: EvaluationScores; baseline: EvaluationScores };

export interface ScoreRow {
  key: keyof EvaluationScores;
  /** "CLIP-I" */
  label: string;
  /** What it measures, for people. */
  means: string;
  value: number;
  baseline: number;
  /** value − the previous evaluation's value; null when there is none. */
  change: number | null;
}

const SCORES: [keyof EvaluationScores, string, string][] = [
  ['clipI', 'CLIP-I', 'identity: looks like the photos'],
  ['dino', 'DINO', 'identity: the subject’s own details'],
  ['clipT', 'CLIP-T', 'editability: follows the prompt'],
];

export function scoreRows(latest: Scored, previous: Pick<Scored, 'scores'> | null = null): ScoreRow[] {
  return SCORES.map(([key, label, means]) => ({
    key,
    label,
    means,
    value: latest.scores[key],
    baseline: latest.baseline[key],
    change: previous ? latest.scores[key] - previous.scores[key] : null,
  }));
}

/** Three decimals, as DreamBench reports them. */
export function formatScore(x: number): string {
  return x.toFixed(3);
}

/** "+0.012", "−0.004", "±0.000". */
export function formatChange(d: number): string {
  const rounded = Number(d.toFixed(3));
  if (rounded === 0) return '±0.000';
  return `${rounded > 0 ? '+' : '−'}${Math.abs(rounded).toFixed(3)}`;
}

export type LibraryOrder = 'newest' | 'identity' | 'editability';

export const LIBRARY_ORDERS: [LibraryOrder, string][] = [
  ['newest', 'Newest first'],
  ['identity', 'Identity (DINO)'],
  ['editability', 'Editability (CLIP-T)'],
];

/**
 * The concepts in `order`: newest keeps theirs (the library lists newest first); by a score,
 * the best first, concepts never evaluated after the rest in their own order.
 */
export function orderConcepts<T>(concepts: readonly T[], order: LibraryOrder, latest: (c: T) => Pick<Scored, 'scores'> | null | undefined): T[] {
  if (order === 'newest') return [...concepts];
  const score = (c: T) => {
    const e = latest(c);
    return e ? (order === 'identity' ? e.scores.dino : e.scores.clipT) : null;
  };
  return concepts
    .map((c, i) => ({ c, i, s: score(c) }))
    .sort((a, b) => (a.s === null ? (b.s === null ? a.i - b.i : 1) : b.s === null ? -1 : b.s - a.s || a.i - b.i))
    .map((x) => x.c);
}
