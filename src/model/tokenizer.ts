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
 * Runtime-added tokens (textual inversion) behave like `tokenizer.add_tokens(...)`: whole units
 * matched on the normalised text, ids appended after the vocabulary. A concept with N vectors
 * owns N tokens `<tok>`, `<tok>_1`, …, `<tok>_{N-1}`, and `<tok>` in a prompt expands to all of
 * them, as diffusers' load_textual_inversion / maybe_convert_prompt do.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { buildTokenizerJson, specContent, type AddedTokenJson, type SpecialTokenSpec, type TokenizerConfigJson, type TokenizerFiles, type TokenizerJson } from './tokenizer-json';

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
  private readonly addedTokens: AddedTokenJson[] = [];
  /** First id of a multi-vector concept → all its ids. */
  private readonly conceptIds = new Map<number, number[]>();
  /** Rebuilt lazily after tokens are added (about 60 ms for CLIP's vocabulary). */
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
    return this.baseVocabSize + this.addedTokens.length;
  }

  tokenId(token: string): number | undefined {
    return this.json.model.vocab[token] ?? this.addedTokens.find((t) => t.content === token)?.id;
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
      this.addedTokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
      ids.push(id);
    }
    this.engine = null;
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
    const ids = this.tokenizer().encode(prompt, { add_special_tokens: false }).ids;
    return ids.flatMap((id) => this.conceptIds.get(id) ?? [id]);
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

  /** Text of ids, special tokens skipped; BPE word ends become spaces. */
  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer().decode(ids, { skip_special_tokens: true }).trim();
  }

  private tokenizer(): Tokenizer {
    this.engine ??= new Tokenizer({ ...this.json, added_tokens: [...this.json.added_tokens, ...this.addedTokens] }, this.config);
    return this.engine;
  }
}
