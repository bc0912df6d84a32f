/**
 * DreamBooth's rare-token identifier (Ruiz et al. 2023, section 3.2): a word the model knows but
 * that carries little meaning, so the subject does not have to unlearn a strong prior. The paper
 * samples tokens of at most 3 characters from ids 5000–10000 of its tokenizer's vocabulary; here
 * the same rule on CLIP's vocabulary: whole-word tokens of 1–3 letters with ids in [5000, 10000),
 * one of them drawn by the run's seed (outside that range when a small vocabulary has none there).
 */
import { rng } from '../common/random';
import { StudioError } from '../common/errors';
import type { ClipTokenizer } from '../model/tokenizer';

export const RARE_TOKEN_IDS = [5000, 10000] as const;
const SHORT_WORD = /^([a-z]{1,3})<\/w>$/;

/** The candidate words, by id: short whole words inside the paper's id range, else anywhere. */
export function rareTokenCandidates(tokenizer: ClipTokenizer): string[] {
  const short = Object.entries(tokenizer.json.model.vocab)
    .map(([piece, id]) => ({ word: SHORT_WORD.exec(piece)?.[1], id }))
    .filter((c): c is { word: string; id: number } => c.word !== undefined)
    .sort((a, b) => a.id - b.id);
  const inRange = short.filter((c) => c.id >= RARE_TOKEN_IDS[0] && c.id < RARE_TOKEN_IDS[1]);
  // a prompt must read the word back as that one token
  return (inRange.length > 0 ? inRange : short).map((c) => c.word).filter((w) => tokenizer.tokenize(w).length === 1);
}

/** The run's identifier word, the same for the same seed and vocabulary; none not in `taken`. */
export function pickRareToken(tokenizer: ClipTokenizer, seed: number, taken: readonly string[] = []): string {
  const busy = new Set(taken.map((t) => t.toLowerCase()));
  const candidates = rareTokenCandidates(tokenizer).filter((w) => !busy.has(w));
  if (candidates.length === 0) throw new StudioError('InvalidRequest', "This model's vocabulary has no short word to use as a rare-token identifier.", "Use the identifier 'added' (the concept's own token).");
  return candidates[Math.floor(rng(seed)() * candidates.length)];
}
