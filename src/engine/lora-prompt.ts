/** LoRA-only concepts in a prompt: their tokens get their class words, as the training prompts had them. No tfjs. */
import type { ConceptWeights } from '../library/concept';
import { TokenMatcher, wordAt } from '../model/prompt-tokens';

/**
 * The prompt as the model reads it: each use of a LoRA-only concept's token (a whole word,
 * prompt-tokens.ts) is followed by its class word, unless the prompt already writes it there; a
 * token without a class word is taken out, with the space before it.
 */
export function rewriteLoraTokens(prompt: string, concepts: readonly Pick<ConceptWeights, 'token' | 'classWord'>[]): string {
  const classWords = new Map(concepts.map((c) => [c.token.toLowerCase(), c.classWord]));
  let out = '';
  let at = 0;
  for (const m of new TokenMatcher(concepts.map((c) => c.token)).find(prompt)) {
    const classWord = classWords.get(m.token.toLowerCase())!;
    const written = prompt.slice(m.start, m.end);
    if (!classWord) {
      out += prompt.slice(at, m.start).trimEnd();
    } else {
      const space = /^\s+/.exec(prompt.slice(m.end))?.[0] ?? '';
      const already = space !== '' && wordAt(prompt, m.end + space.length, classWord);
      out += prompt.slice(at, m.start) + (already ? written : `${written} ${classWord}`);
    }
    at = m.end;
  }
  return out + prompt.slice(at);
}
