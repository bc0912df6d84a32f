/**
 * A concept's evaluation as the library keeps it: the DreamBench-style scores, the class-word
 * baseline and the settings they were measured with (the images themselves are not kept).
 */
import type { EvaluationScores } from '../features/types';

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
}
