/**
 * The one line that says what an evaluation's scores mean against the class-word baseline.
 * Identity is DINO's gain over the baseline (the most discriminative of the three); editability
 * is CLIP-T's change. DreamBench's papers separate methods by about 0.05–0.10 DINO and 0.01–0.05 CLIP-T.
 */
import type { EvaluationScores } from './types';

/** DINO above the baseline by this much: the identity took well. */
export const IDENTITY_WELL = 0.05;
/** By this much: a little. */
export const IDENTITY_SOME = 0.01;
/** CLIP-T below the baseline by more than this: prompt words are followed less. */
export const PROMPTS_LESS = 0.02;
/** By more than this: prompt words are ignored. */
export const PROMPTS_IGNORED = 0.05;

export function readScores(scores: EvaluationScores, baseline: EvaluationScores): string {
  const identity = scores.dino - baseline.dino;
  const prompts = baseline.clipT - scores.clipT;
  if (identity > IDENTITY_SOME && prompts > PROMPTS_IGNORED) return 'overfit: prompt words ignored';
  const who = identity > IDENTITY_WELL ? 'identity well above the class word'
    : identity > IDENTITY_SOME ? 'identity a little above the class word'
      : 'identity no better than the class word: the concept has not taken';
  const what = prompts > PROMPTS_IGNORED ? 'prompt words ignored' : prompts > PROMPTS_LESS ? 'prompts followed less than with the class word' : 'prompts still followed';
  return `${who}; ${what}`;
}
