/**
 * Where a prompt uses a concept's token: the one rule the page, the engine and the tokenizer share.
 *
 * A token is a whole unit of the prompt: it matches where neither neighbour is a word character
 * (a letter, digit, mark or `_`), so `<cat>,`, `(<cat>:1.2)` and `<cat>!` use `<cat>`, while
 * `<cat>2`, `x<cat>`, `asks` (for `sks`) and `red` (for `e`) do not. Matching ignores case, as the
 * CLIP tokenizer lowercases what it reads. This is the tokenizers library's `single_word` rule,
 * which @huggingface/tokenizers does not apply; the tokenizer splits prompts with it instead.
 * Plain string code: no tfjs.
 */
import { StudioError } from '../common/errors';

/** The longest token a concept may have, in characters. */
export const MAX_TOKEN_LENGTH = 64;

const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]/u;

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && WORD_CHAR.test(ch);
}

/** One use of a token: `text.slice(start, end)` is it, as the prompt writes it. */
export interface TokenMatch {
  start: number;
  end: number;
  /** The token as given (not as the prompt spells its case). */
  token: string;
}

/** True when `word` stands at `index` of `text` as a whole unit (case ignored). */
export function wordAt(text: string, index: number, word: string): boolean {
  const end = index + word.length;
  return (
    word.length > 0 &&
    end <= text.length &&
    text.slice(index, end).toLowerCase() === word.toLowerCase() &&
    !isWordChar(charBefore(text, index)) &&
    !isWordChar(charAfter(text, end))
  );
}

function charBefore(text: string, index: number): string | undefined {
  if (index === 0) return undefined;
  const low = text.charCodeAt(index - 1);
  return index >= 2 && low >= 0xdc00 && low <= 0xdfff ? text.slice(index - 2, index) : text[index - 1];
}

function charAfter(text: string, index: number): string | undefined {
  return index < text.length ? String.fromCodePoint(text.codePointAt(index)!) : undefined;
}

/**
 * A set of tokens to find in prompts, built once in O(tokens): a Map from each token's lowercase
 * form, and the distinct lengths, longest first (so `<tok>_1` wins over `<tok>` where both fit).
 */
export class TokenMatcher {
  private readonly byLower = new Map<string, string>();
  private lengths: number[] = [];

  constructor(tokens: Iterable<string> = []) {
    for (const t of tokens) this.add(t);
  }

  /** Adds a token; false when one of the same letters (case ignored) is already there. */
  add(token: string): boolean {
    const key = token.toLowerCase();
    if (token.length === 0 || this.byLower.has(key)) return false;
    this.byLower.set(key, token);
    if (!this.lengths.includes(token.length)) this.lengths = [...this.lengths, token.length].sort((a, b) => b - a);
    return true;
  }

  has(token: string): boolean {
    return this.byLower.has(token.toLowerCase());
  }

  get size(): number {
    return this.byLower.size;
  }

  private longestAt(text: string, i: number): string | undefined {
    for (const n of this.lengths) {
      const token = this.byLower.get(text.slice(i, i + n).toLowerCase());
      if (token !== undefined && wordAt(text, i, token)) return token;
    }
    return undefined;
  }

  /** The token uses in `text`, left to right, not overlapping. */
  find(text: string): TokenMatch[] {
    const out: TokenMatch[] = [];
    if (this.byLower.size === 0) return out;
    for (let i = 0; i < text.length; ) {
      const token = isWordChar(charBefore(text, i)) ? undefined : this.longestAt(text, i);
      if (token === undefined) {
        i++;
        continue;
      }
      out.push({ start: i, end: i + token.length, token });
      i += token.length;
    }
    return out;
  }
}

/** True when the prompt uses `token` as a whole unit. */
export function promptUsesToken(prompt: string, token: string): boolean {
  return new TokenMatcher([token]).find(prompt).length > 0;
}

export interface TokenValidation {
  /** True for a word the model's tokenizer already knows (a token that adds vectors must be new). */
  isVocabularyWord?: (token: string) => boolean;
  /** The other concepts' tokens: the same letters in another case, or their `<tok>_1` sub-tokens, collide. */
  otherTokens?: readonly string[];
}

/** What follows a token in the names of its extra vectors: `<tok>_1`. */
const SUB_TOKEN = /^_\d+$/;

/** Why `token` cannot be a concept's token, or null when it can. */
export function tokenProblem(token: unknown, { isVocabularyWord, otherTokens = [] }: TokenValidation = {}): string | null {
  if (typeof token !== 'string' || token.length === 0) return 'a token cannot be empty';
  const shown = JSON.stringify(token);
  if (/\s/u.test(token)) return `${shown} has a space in it: a token is one word`;
  if (INVISIBLE.test(token)) return `${shown} has a control or invisible character in it`;
  if ([...token].length > MAX_TOKEN_LENGTH) return `${shown} is ${[...token].length} characters long: at most ${MAX_TOKEN_LENGTH}`;
  if (!/[\p{L}\p{N}]/u.test(token)) return `${shown} has no letter or digit: a prompt could not use it as a word`;
  if (isVocabularyWord?.(token)) return `${shown} is a word the model already knows: its own meaning would be lost`;
  const lower = token.toLowerCase();
  for (const other of otherTokens) {
    const o = other.toLowerCase();
    if (o === lower) return `${shown} is the token of another concept (${JSON.stringify(other)}; case does not count)`;
    if (lower.startsWith(o) && SUB_TOKEN.test(lower.slice(o.length))) return `${shown} collides with the extra vectors of ${JSON.stringify(other)} (${other}_1, ${other}_2, …)`;
    if (o.startsWith(lower) && SUB_TOKEN.test(o.slice(lower.length))) return `${shown} collides with ${JSON.stringify(other)}, which would read as one of its extra vectors`;
  }
  return null;
}

/** Throws `TokenInvalid`, naming the problem, unless `token` can be a concept's token. */
export function validateToken(token: unknown, options: TokenValidation = {}): string {
  const problem = tokenProblem(token, options);
  if (problem !== null) throw new StudioError('TokenInvalid', `${problem[0].toUpperCase()}${problem.slice(1)}.`);
  return token as string;
}

/** A token from a file's name: `My Cat (v2).safetensors` → `<my-cat-v2>` (`<concept>` when nothing is left). */
export function tokenFromFileName(fileName: string): string {
  const stem = (fileName.split(/[\\/]/).pop() ?? fileName).replace(/\.[^.]*$/, '');
  const word = stem
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_-]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return `<${[...(word || 'concept')].slice(0, MAX_TOKEN_LENGTH - 2).join('')}>`;
}
