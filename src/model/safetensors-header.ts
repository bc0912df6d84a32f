/**
 * The safetensors header's JSON, parsed strictly by hand rather than by `JSON.parse`:
 * - objects become `Map`s, so `__proto__` or `constructor` is a key like any other;
 * - a duplicate key is refused (the format disallows them; `JSON.parse` would keep the last);
 * - nesting is bounded before it is entered (a valid header needs 3 levels), so no input can
 *   recurse deeply here or in whatever formats a value later;
 * - the text must start with `{`, and only spaces (the format's padding) may follow the object.
 * Problems are `HeaderSyntaxError`s whose message reads after the file name.
 */

export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = Map<string, Json>;

/** The header object, a tensor entry (or `__metadata__`), its shape and data_offsets arrays. */
export const MAX_HEADER_DEPTH = 3;

export class HeaderSyntaxError extends Error {
  override readonly name = 'HeaderSyntaxError';
}

export function parseHeaderJson(text: string): JsonObject {
  return new HeaderParser(text).header();
}

/** A short rendering of a parsed value for messages: never longer than `max` characters (plus '…'). */
export function preview(value: Json | undefined, max = 60): string {
  const text = render(value, max + 1);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `text` cut to `max` characters (plus '…'), for names in messages. */
export function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max))}…` : text;
}

/** Stops adding once `budget` characters are written; depth is bounded by the parser. */
function render(value: Json | undefined, budget: number): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, budget));
  if (value instanceof Map) return renderItems('{', '}', value, ([k, v], left) => `${JSON.stringify(clip(k, left))}: ${render(v, left)}`, budget);
  if (Array.isArray(value)) return renderItems('[', ']', value, render, budget);
  return String(value);
}

function renderItems<T>(open: string, close: string, items: Iterable<T>, one: (item: T, budget: number) => string, budget: number): string {
  let out = open;
  for (const item of items) {
    if (out.length >= budget) return out;
    out += (out.length > 1 ? ', ' : '') + one(item, budget - out.length);
  }
  return out + close;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A run of string characters that need no attention. */
const PLAIN = /[^"\\\u0000-\u001f]*/y;
/** By first character: 't', 'f', 'n'. */
const LITERALS = new Map<number, [string, Json]>([[0x74, ['true', true]], [0x66, ['false', false]], [0x6e, ['null', null]]]);
const [SPACE, TAB, LF, CR, QUOTE, COMMA, COLON, BACKSLASH] = [0x20, 0x09, 0x0a, 0x0d, 0x22, 0x2c, 0x3a, 0x5c];
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [0x7b, 0x7d, 0x5b, 0x5d];

/** A character for messages: itself when printable ASCII, else its code point. */
function describeChar(text: string, at: number): string {
  const c = text.codePointAt(at)!;
  return c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

class HeaderParser {
  private i = 0;

  constructor(private readonly text: string) {}

  header(): JsonObject {
    if (this.text.charCodeAt(0) !== OPEN_BRACE) {
      const found = this.text.length === 0 ? 'nothing' : describeChar(this.text, 0);
      throw new HeaderSyntaxError(`header does not start with '{' (it starts with ${found}); a safetensors header is a JSON object.`);
    }
    const header = this.object(1);
    for (let i = this.i; i < this.text.length; i++) {
      if (this.text.charCodeAt(i) !== SPACE) {
        throw new HeaderSyntaxError(`header has ${describeChar(this.text, i)} after its JSON object at character ${i}; only spaces may pad it.`);
      }
    }
    return header;
  }

  /** The value at the cursor, which would sit `depth` levels deep. */
  private value(depth: number): Json {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth > MAX_HEADER_DEPTH) {
        throw new HeaderSyntaxError(
          `header nests deeper than ${MAX_HEADER_DEPTH} levels at character ${this.i}: a safetensors header holds tensor entries whose shape and data_offsets are flat arrays.`,
        );
      }
      return c === OPEN_BRACE ? this.object(depth) : this.array(depth);
    }
    if (c === QUOTE) return this.string();
    const literal = LITERALS.get(c);
    if (literal && this.text.startsWith(literal[0], this.i)) {
      this.i += literal[0].length;
      return literal[1];
    }
    NUMBER.lastIndex = this.i;
    if (NUMBER.test(this.text)) return this.number(NUMBER.lastIndex);
    throw this.unexpected();
  }

  /** The number lexeme ending at `end`; short digit runs (shapes, offsets) without a string. */
  private number(end: number): number {
    const start = this.i;
    this.i = end;
    if (end - start > 15) return Number(this.text.slice(start, end));
    let value = 0;
    for (let i = start; i < end; i++) {
      const d = this.text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return Number(this.text.slice(start, end)); // '-', '.', 'e'
      value = value * 10 + d;
    }
    return value;
  }

  private object(depth: number): JsonObject {
    const members: JsonObject = new Map();
    this.i++; // '{'
    this.skipWhitespace();
    if (this.text.charCodeAt(this.i) === CLOSE_BRACE) {
      this.i++;
      return members;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.i) !== QUOTE) throw this.unexpected();
      const at = this.i;
      const key = this.string();
      if (members.has(key)) throw new HeaderSyntaxError(`header has a duplicate key '${clip(key)}' at character ${at}; safetensors keys are unique.`);
      this.skipWhitespace();
      if (this.text.charCodeAt(this.i) !== COLON) throw this.unexpected();
      this.i++;
      members.set(key, this.value(depth + 1));
      if (this.endOf(CLOSE_BRACE)) return members;
    }
  }

  private array(depth: number): Json[] {
    const items: Json[] = [];
    this.i++; // '['
    this.skipWhitespace();
    if (this.text.charCodeAt(this.i) === CLOSE_BRACKET) {
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      if (this.endOf(CLOSE_BRACKET)) return items;
    }
  }

  /** After a member: true at the closing `close`, false after a comma. */
  private endOf(close: number): boolean {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.i);
    if (c !== close && c !== COMMA) throw this.unexpected();
    this.i++;
    return c === close;
  }

  private string(): string {
    const start = this.i; // the opening quote
    let escaped = false;
    for (let i = start + 1; i < this.text.length; ) {
      PLAIN.lastIndex = i;
      PLAIN.test(this.text); // always matches, maybe nothing
      i = PLAIN.lastIndex;
      const c = this.text.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return escaped ? this.unescape(start, i + 1) : this.text.slice(start + 1, i);
      }
      if (c === BACKSLASH) {
        escaped = true;
        i += 2; // and the escaped character; `unescape` checks the escape
      } else if (i < this.text.length) {
        throw invalidJson(`a raw control character ${describeChar(this.text, i)} in a string at character ${i}`);
      }
    }
    throw invalidJson(`a string at character ${start} is never closed`);
  }

  /** A string literal with escapes: `JSON.parse` of just that literal decodes (or refuses) them. */
  private unescape(begin: number, end: number): string {
    try {
      return JSON.parse(this.text.slice(begin, end)) as string;
    } catch {
      throw invalidJson(`a bad escape in the string at character ${begin}`);
    }
  }

  private skipWhitespace(): void {
    for (let c = this.text.charCodeAt(this.i); c === SPACE || c === TAB || c === LF || c === CR; c = this.text.charCodeAt(++this.i));
  }

  private unexpected(): HeaderSyntaxError {
    if (this.i >= this.text.length) return invalidJson(`it ends at character ${this.i} inside a value`);
    return invalidJson(`unexpected ${describeChar(this.text, this.i)} at character ${this.i}`);
  }
}

function invalidJson(detail: string): HeaderSyntaxError {
  return new HeaderSyntaxError(`header is not valid JSON (${detail}); this is not a safetensors file.`);
}
