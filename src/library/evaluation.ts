/**
 * A concept's evaluation as the library keeps it: the DreamBench-style scores, the class-word
 * baseline and the settings they were measured with (the images themselves are not kept).
 */
import type { EvaluationScores } from '../features/types';
import type { AttributeAccuracy, ConceptQuality, FidelityScores } from '../world/concept-quality';

export interface EvaluationSettings {
  /** The SD model's name. */
  model: string;
  steps: number;
  size: number;
  seeds: number[];
  /** The prompts with the concept's token, one per template. */
  prompts: string[];
  /** The feature models' repos or folders: CLIP, then DINO. */
  featureModels: string[];
}

/** On the built-in shapes model with a sample concept: the world analyzer's scores of the concept and of its class word. */
export interface WorldEvaluation {
  /** The sample concept's id (world/sample-concepts.ts). */
  sample: string;
  concept: ConceptQuality;
  baseline: ConceptQuality;
}

export interface EvaluationRecord {
  scores: EvaluationScores;
  /** The same prompts with the class word in place of the token. */
  baseline: EvaluationScores;
  /** One line for people: what the scores say against the baseline. */
  reading: string;
  settings: EvaluationSettings;
  /** Date.now() when it finished. */
  evaluatedAt: number;
  durationMs: number;
  /** Absent: not the built-in model, not a sample concept, or evaluated before the studio scored them. */
  world?: WorldEvaluation;
}

/** How many evaluations a concept keeps, the newest (older ones drop off the front). */
export const MAX_EVALUATIONS = 20;

/** What the library list shows of the latest evaluation, so it can sort and compare concepts. */
export type EvaluationSummary = Pick<EvaluationRecord, 'scores' | 'baseline' | 'reading' | 'evaluatedAt'>;

type Raw = Record<string, unknown>;

function finite(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

function readScores(raw: unknown, what: string, unreadable: (why: string) => Error): EvaluationScores {
  const s = raw as Raw | null;
  if (typeof s !== 'object' || s === null || !finite(s.clipI) || !finite(s.clipT) || !finite(s.dino)) throw unreadable(`its evaluation ${what} are not three finite numbers`);
  return { clipI: s.clipI, clipT: s.clipT, dino: s.dino };
}

const FIDELITY_KEYS = ['fgColorDist', 'maskIou', 'nearestPhotoL1', 'bgDist'] as const;
const ATTRIBUTE_KEYS: readonly string[] = ['background', 'color', 'position', 'size'] satisfies (keyof AttributeAccuracy)[];

function readQuality(raw: unknown, unreadable: (why: string) => Error): ConceptQuality {
  const q = raw as Raw | null;
  const f = (typeof q === 'object' && q !== null ? q.fidelity : null) as Raw | null;
  const e = (typeof q === 'object' && q !== null ? q.editability : null) as Raw | null;
  if (typeof f !== 'object' || f === null || !FIDELITY_KEYS.every((k) => finite(f[k])) || !(f.twoColorBalance === undefined || finite(f.twoColorBalance))) {
    throw unreadable("its shapes-world fidelity scores are not finite numbers");
  }
  if (typeof e !== 'object' || e === null || !Object.entries(e).every(([k, v]) => ATTRIBUTE_KEYS.includes(k) && finite(v) && v >= 0 && v <= 1)) throw unreadable("its shapes-world editability is not finite accuracies");
  const fidelity: FidelityScores = { fgColorDist: f.fgColorDist as number, maskIou: f.maskIou as number, nearestPhotoL1: f.nearestPhotoL1 as number, bgDist: f.bgDist as number };
  if (f.twoColorBalance !== undefined) fidelity.twoColorBalance = f.twoColorBalance as number;
  return { fidelity, editability: { ...(e as AttributeAccuracy) } };
}

function readWorld(raw: unknown, unreadable: (why: string) => Error): WorldEvaluation {
  const w = raw as Raw | null;
  if (typeof w !== 'object' || w === null || typeof w.sample !== 'string') throw unreadable("its shapes-world scores name no sample concept");
  return { sample: w.sample, concept: readQuality(w.concept, unreadable), baseline: readQuality(w.baseline, unreadable) };
}

function readEvaluation(raw: unknown, unreadable: (why: string) => Error): EvaluationRecord {
  const e = raw as Raw | null;
  if (typeof e !== 'object' || e === null) throw unreadable('an evaluation is not an object');
  const { reading, settings, evaluatedAt, durationMs } = e;
  if (typeof reading !== 'string') throw unreadable('an evaluation has no reading');
  if (!finite(evaluatedAt) || !finite(durationMs) || durationMs < 0) throw unreadable('an evaluation has no date or duration');
  const s = settings as Raw | null;
  const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string');
  if (
    typeof s !== 'object' || s === null || typeof s.model !== 'string' || !finite(s.steps) || !finite(s.size) ||
    !Array.isArray(s.seeds) || !s.seeds.every(finite) || !strings(s.prompts) || !strings(s.featureModels)
  ) {
    throw unreadable('an evaluation\'s settings are incomplete');
  }
  return {
    scores: readScores(e.scores, 'scores', unreadable),
    baseline: readScores(e.baseline, 'baseline', unreadable),
    reading,
    settings: { model: s.model, steps: s.steps, size: s.size, seeds: [...s.seeds], prompts: [...s.prompts], featureModels: [...s.featureModels] },
    evaluatedAt,
    durationMs,
    ...(e.world !== undefined && { world: readWorld(e.world, unreadable) }),
  };
}

/** A stored concept's evaluations, oldest first; throws `unreadable`'s error on anything but finite numbers where numbers go. */
export function readEvaluations(raw: unknown, unreadable: (why: string) => Error): EvaluationRecord[] {
  if (!Array.isArray(raw)) throw unreadable('its evaluations are not a list');
  return raw.map((e) => readEvaluation(e, unreadable));
}

/** The history with `evaluation` added last, at most `MAX_EVALUATIONS`. */
export function withEvaluation(history: readonly EvaluationRecord[] | undefined, evaluation: EvaluationRecord): EvaluationRecord[] {
  return [...(history ?? []), evaluation].slice(-MAX_EVALUATIONS);
}

export function summarizeEvaluation(e: EvaluationRecord): EvaluationSummary {
  return { scores: { ...e.scores }, baseline: { ...e.baseline }, reading: e.reading, evaluatedAt: e.evaluatedAt };
}
