/**
 * The prompt composer's concept-token autocomplete: which token the caret is typing, the library
 * tokens that complete it, putting one in, and `<tokens>` the library lacks. Plain string code.
 */
import { promptUsesToken } from '../../model/prompt-tokens';

/** The piece of the prompt being typed: `text.slice(start, end)` is `query`. */
export interface TypedToken {
  start: number;
  end: number;
  query: string;
}

/** Characters that end a token being typed (a prompt's separators and A1111's weighting marks). */
const SEPARATOR = /[\s,()[\]{}|]/;

/**
 * The word the caret ends, when it could be a concept token: it starts with `<`, or it is at
 * least two characters long (completing `my-c` to `<my-cube>`).
 */
export function tokenAt(text: string, caret: number): TypedToken | null {
  let start = caret;
  while (start > 0 && !SEPARATOR.test(text[start - 1])) start--;
  const query = text.slice(start, caret);
  if (query.startsWith('<') ? query.includes('>') : query.length < 2) return null;
  return { start, end: caret, query };
}

/** Tokens that complete `query` (case ignored, with or without its `<`), not those already typed out. */
export function completions<T extends { token: string }>(concepts: readonly T[], query: string, max = 8): T[] {
  const q = query.toLowerCase();
  return concepts
    .filter((c) => {
      const token = c.token.toLowerCase();
      return token !== q && (token.startsWith(q) || token.replace(/^</, '').startsWith(q));
    })
    .slice(0, max);
}

/** The prompt with `typed` replaced by `token` and a space after it; `caret` is just past that. */
export function insertToken(text: string, typed: TypedToken, token: string): { text: string; caret: number } {
  const after = text.slice(typed.end);
  const space = after.startsWith(' ') ? '' : ' ';
  return { text: `${text.slice(0, typed.start)}${token}${space}${after}`, caret: typed.start + token.length + 1 };
}

/** A1111's extra-network tags (`<lora:name:0.8>`), which are not concept tokens. */
const EXTRA_NETWORK = /^<(lora|lyco|hypernet):/i;

/** `<tokens>` the prompts use that no library concept has, each once, in order. */
export function unknownTokens(concepts: readonly { token: string }[], ...prompts: string[]): string[] {
  const found = prompts.flatMap((p) => p.match(/<[^<>\s]+>/g) ?? []).filter((t) => !EXTRA_NETWORK.test(t));
  const unknown = found.filter((t) => !concepts.some((c) => promptUsesToken(t, c.token)));
  return [...new Set(unknown)];
}
