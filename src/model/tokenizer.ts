/**
 * The CLIP BPE tokenizer of Stable Diffusion 1.x, run by `@huggingface/tokenizers` (the tokenizer
 * engine of transformers.js v4).
 *
 * SD repos ship the "slow" files only, while the library loads the "fast" tokenizer.json, which
 * `buildTokenizerJson` (tokenizer-json.ts) writes from them.
 *
 * Padding and truncation are ours, as transformers (Python) does them for
 * `tokenizer(p, padding='max_length', max_length=77, truncation=True)`: the text tokens are cut to
 * 75 so bos/eos always frame them, then padded with the pad token. (transformers.js' own call
 * keeps the first 77 ids instead, dropping eos.)
 *
 * Runtime-added tokens (textual inversion) get ids after the vocabulary, like `tokenizer.add_tokens(...)`,
 * but match as whole words (prompt-tokens.ts, the rule the page uses too): the prompt is split on
 * them first, and the text between is encoded as the model's own, so `e` never matches inside
 * `red`. Prompts without added tokens encode exactly as before. A concept with N vectors
 * owns N tokens `<tok>`, `<tok>_1`, …, `<tok>_{N-1}`, and `<tok>` in a prompt expands to all of
 * them, as diffusers' load_textual_inversion / maybe_convert_prompt do.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenMatcher } from './prompt-tokens';
import { buildTokenizerJson, specContent, type SpecialTokenSpec, type TokenizerConfigJson, type TokenizerFiles, type TokenizerJson } from './tokenizer-json';

export interface EncodedPrompt {
  /** Exactly `maxLength` ids: bos, text tokens, eos, pad… */
  ids: number[];
  /** bos + text tokens + eos before truncation. */
  tokenCount: number;
  truncated: boolean;
  /** Text tokens cut off by truncation (0 when it fits). */
  droppedTokenCount: number;
  /** The cut-off part of the prompt as the tokenizer reads it back (lowercased), for the UI. */
  droppedText: string;
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly baseVocabSize: number;
  /** Added token (lowercase, as CLIP reads it) → its id; the matcher finds them in prompts. */
  private readonly addedIds = new Map<string, number>();
  private readonly addedContent = new Map<number, string>();
  private readonly added = new TokenMatcher();
  /** First id of a multi-vector concept → all its ids. */
  private readonly conceptIds = new Map<number, number[]>();
  /** The vocabulary's tokenizer (built once, about 60 ms for CLIP's vocabulary); added tokens never join it. */
  private engine: Tokenizer | null = null;

  private constructor(
    readonly json: TokenizerJson,
    private readonly config: TokenizerConfigJson,
  ) {
    const id = (key: 'bos_token' | 'eos_token' | 'pad_token', spec: SpecialTokenSpec | null | undefined) => {
      const content = specContent(spec);
      const value = content === undefined ? undefined : json.model.vocab[content];
      if (value === undefined) throw new Error(`tokenizer config: ${key} = ${JSON.stringify(content)} is not in vocab.json`);
      return value;
    };
    this.baseVocabSize = Object.keys(json.model.vocab).length;
    this.bosId = id('bos_token', config.bos_token);
    this.eosId = id('eos_token', config.eos_token);
    this.padId = id('pad_token', config.pad_token ?? config.eos_token);
    // CLIP's text encoder has 77 positions; configs without model_max_length mean that.
    this.maxLength = typeof config.model_max_length === 'number' && config.model_max_length < 1e6 ? config.model_max_length : 77;
  }

  static fromFiles(files: TokenizerFiles): ClipTokenizer {
    return new ClipTokenizer(buildTokenizerJson(files), { ...files.config, ...files.specialTokensMap });
  }

  /** Vocabulary size including added tokens: the number of embedding rows the text encoder needs. */
  get vocabSize(): number {
    return this.baseVocabSize + this.addedIds.size;
  }

  /** The number of runtime-added tokens. */
  get addedCount(): number {
    return this.addedIds.size;
  }

  tokenId(token: string): number | undefined {
    return this.json.model.vocab[token] ?? this.addedIds.get(token.toLowerCase());
  }

  /** True when the model reads `word` as one word of its own vocabulary (case ignored), or it is already added. */
  isVocabularyWord(word: string): boolean {
    const lower = word.toLowerCase();
    return this.tokenId(word) !== undefined || this.json.model.vocab[`${lower}</w>`] !== undefined || this.json.model.vocab[lower] !== undefined;
  }

  /** Adds tokens as `tokenizer.add_tokens(tokens)`: ids continue after the vocabulary. Returns their ids. */
  addTokens(tokens: string[]): number[] {
    const ids: number[] = [];
    for (const content of tokens) {
      if (content.trim() === '') throw new Error('cannot add an empty token');
      if (this.tokenId(content) !== undefined) {
        throw new Error(`the tokenizer already contains the token ${JSON.stringify(content)}; choose another trigger word`);
      }
      const id = this.vocabSize;
      this.addedIds.set(content.toLowerCase(), id);
      this.addedContent.set(id, content);
      this.added.add(content);
      ids.push(id);
    }
    return ids;
  }

  /**
   * Adds a textual-inversion concept of `numVectors` embedding vectors as diffusers does:
   * tokens `<tok>`, `<tok>_1`, …, `<tok>_{N-1}`; in prompts `<tok>` expands to all of them.
   * Returns the ids, one per vector.
   */
  addConcept(token: string, numVectors: number): number[] {
    if (!Number.isInteger(numVectors) || numVectors < 1) throw new RangeError(`numVectors = ${numVectors} must be a positive integer`);
    const tokens = [token, ...Array.from({ length: numVectors - 1 }, (_, i) => `${token}_${i + 1}`)];
    const taken = tokens.find((t) => this.tokenId(t) !== undefined);
    if (taken !== undefined) throw new Error(`the tokenizer already contains the token ${JSON.stringify(taken)}; choose another trigger word`);
    const ids = this.addTokens(tokens);
    if (numVectors > 1) this.conceptIds.set(ids[0], ids);
    return ids;
  }

  /** Text tokens of a prompt (no bos/eos), multi-vector concepts expanded. */
  tokenize(prompt: string): number[] {
    const ids: number[] = [];
    let at = 0;
    for (const m of this.added.find(prompt)) {
      ids.push(...this.encodeText(prompt.slice(at, m.start)));
      const id = this.addedIds.get(m.token.toLowerCase())!;
      ids.push(...(this.conceptIds.get(id) ?? [id]));
      at = m.end;
    }
    ids.push(...this.encodeText(prompt.slice(at)));
    return ids;
  }

  private encodeText(text: string): number[] {
    return text === '' ? [] : this.tokenizer().encode(text, { add_special_tokens: false }).ids;
  }

  /** Ids as `tokenizer(prompt, padding='max_length', max_length=77, truncation=True).input_ids`, with a truncation report. */
  encode(prompt: string): EncodedPrompt {
    const text = this.tokenize(prompt);
    const room = this.maxLength - 2;
    const kept = text.slice(0, room);
    const dropped = text.slice(room);
    const ids = [this.bosId, ...kept, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return {
      ids,
      tokenCount: text.length + 2,
      truncated: dropped.length > 0,
      droppedTokenCount: dropped.length,
      droppedText: dropped.length > 0 ? this.decode(dropped) : '',
    };
  }

  /** Text of ids, special tokens skipped; BPE word ends become spaces; added tokens are their words. */
  decode(ids: number[]): string {
    const words: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) words.push(this.tokenizer().decode(run, { skip_special_tokens: true }).trim());
      run = [];
    };
    for (const id of ids) {
      const content = this.addedContent.get(id);
      if (content === undefined) run.push(id);
      else {
        flush();
        words.push(content);
      }
    }
    flush();
    return words.filter((w) => w !== '').join(' ');
  }

  private tokenizer(): Tokenizer {
    this.engine ??= new Tokenizer(this.json, this.config);
    return this.engine;
  }
}
