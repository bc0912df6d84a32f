/**
 * A concept's scores as its card shows them: each of the three beside the class-word baseline,
 * and the change from the evaluation before; the shapes analyzer's beside its baseline where the
 * evaluation has them; and the library's order by them.
 */
import type { EvaluationScores, WorldEvaluation } from '../engine/protocol';

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

export interface WorldRow {
  key: string;
  /** "Mask IoU ↑": the arrow says which way is better. */
  label: string;
  value: string;
  baseline: string;
}

type Quality = WorldEvaluation['concept'];

const WORLD_ROWS: [string, string, (q: Quality) => number | undefined, (x: number) => string][] = [
  ['fgColorDist', 'Foreground colour distance ↓', (q) => q.fidelity.fgColorDist, (x) => x.toFixed(1)],
  ['maskIou', 'Mask IoU ↑', (q) => q.fidelity.maskIou, formatScore],
  ['twoColorBalance', 'Two-colour balance ↑', (q) => q.fidelity.twoColorBalance, formatScore],
  ['background', 'Background accuracy ↑', (q) => q.editability.background, percent],
  ['position', 'Position accuracy ↑', (q) => q.editability.position, percent],
  ['size', 'Size accuracy ↑', (q) => q.editability.size, percent],
  ['color', 'Colour accuracy ↑', (q) => q.editability.color, percent],
];

function percent(x: number): string {
  return `${Math.round(100 * x)}%`;
}

/** The shapes analyzer's rows (those the evaluation measured), each beside the class word's; none without them. */
export function worldRows(world: WorldEvaluation | undefined): WorldRow[] {
  if (!world) return [];
  return WORLD_ROWS.flatMap(([key, label, read, format]) => {
    const [value, baseline] = [read(world.concept), read(world.baseline)];
    return value === undefined || baseline === undefined ? [] : [{ key, label, value: format(value), baseline: format(baseline) }];
  });
}
