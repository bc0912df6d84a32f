/**
 * The CLIP BPE tokenizer of Stable Diffusion 1.x, run by `@huggingface/tokenizers` (the tokenizer
 * engine of transformers.js v4).
 *
 * SD repos ship the "slow" files only (tokenizer/vocab.json + merges.txt + tokenizer_config.json),
 * while the library loads the "fast" tokenizer.json, so `buildTokenizerJson` writes the structure
 * transformers' CLIPTokenizerFast saves for these files (NFC, whitespace clean and lowercase; CLIP's
 * split regex then byte-level; BPE with a `</w>` end-of-word suffix).
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

/** A special token as tokenizer_config.json / special_tokens_map.json write it. */
export type SpecialTokenSpec =
  | string
  | { content: string; lstrip?: boolean; rstrip?: boolean; normalized?: boolean; single_word?: boolean; special?: boolean };

export interface TokenizerConfigJson {
  bos_token?: SpecialTokenSpec | null;
  eos_token?: SpecialTokenSpec | null;
  unk_token?: SpecialTokenSpec | null;
  pad_token?: SpecialTokenSpec | null;
  model_max_length?: number;
  added_tokens_decoder?: Record<string, Exclude<SpecialTokenSpec, string>>;
  [key: string]: unknown;
}

export interface TokenizerFiles {
  /** Parsed tokenizer/vocab.json. */
  vocab: Record<string, number>;
  /** Text of tokenizer/merges.txt. */
  merges: string;
  /** Parsed tokenizer/tokenizer_config.json. */
  config: TokenizerConfigJson;
  /** Parsed tokenizer/special_tokens_map.json, when present; its entries override the config's. */
  specialTokensMap?: Partial<TokenizerConfigJson>;
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The subset of the tokenizers library's tokenizer.json this code writes. */
export interface TokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: object;
  pre_tokenizer: object;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string;
    continuing_subword_prefix: string;
    end_of_word_suffix: string;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: [string, string][];
  };
  post_processor: object;
  decoder: object;
}

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

/** CLIP's pre-tokenizer split (the regex of openai/CLIP's SimpleTokenizer). */
const CLIP_SPLIT_REGEX = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** transformers' special-token attributes, in the order it registers them (a later one wins). */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;

function specContent(spec: SpecialTokenSpec | null | undefined): string | undefined {
  return spec == null ? undefined : typeof spec === 'string' ? spec : spec.content;
}

/** merges.txt: an optional `#version` line, then one "left right" pair per line. */
export function parseMerges(text: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.replace(/\r$/, '').split(' ');
    if (parts.length !== 2) throw new Error(`merges.txt line ${i + 1}: expected two tokens separated by a space, got ${JSON.stringify(line)}`);
    merges.push(parts as [string, string]);
  });
  return merges;
}

/** The special tokens as added tokens, with transformers' flags. */
function specialAddedTokens(vocab: Record<string, number>, config: TokenizerConfigJson): AddedTokenJson[] {
  const byContent = new Map<string, AddedTokenJson>();
  if (config.added_tokens_decoder) {
    for (const [id, spec] of Object.entries(config.added_tokens_decoder)) {
      byContent.set(spec.content, {
        id: Number(id),
        content: spec.content,
        single_word: spec.single_word ?? false,
        lstrip: spec.lstrip ?? false,
        rstrip: spec.rstrip ?? false,
        normalized: spec.normalized ?? false,
        special: spec.special ?? true,
      });
    }
  } else {
    for (const key of SPECIAL_TOKEN_KEYS) {
      const spec = config[key];
      const content = specContent(spec);
      if (content === undefined) continue;
      const id = vocab[content];
      if (id === undefined) throw new Error(`tokenizer config: ${key} = ${JSON.stringify(content)} is not in vocab.json`);
      // A bare string becomes AddedToken(content, special=True), whose `normalized` is False.
      const flags: Exclude<SpecialTokenSpec, string> = typeof spec === 'string' ? { content } : spec!;
      byContent.set(content, {
        id,
        content,
        single_word: flags.single_word ?? false,
        lstrip: flags.lstrip ?? false,
        rstrip: flags.rstrip ?? false,
        normalized: flags.normalized ?? false,
        special: true,
      });
    }
  }
  return [...byContent.values()].sort((a, b) => a.id - b.id);
}

/** The tokenizer.json that CLIPTokenizerFast.save_pretrained writes for these slow-tokenizer files. */
export function buildTokenizerJson(files: TokenizerFiles): TokenizerJson {
  const config = { ...files.config, ...files.specialTokensMap };
  const bos = specContent(config.bos_token);
  const eos = specContent(config.eos_token);
  const unk = specContent(config.unk_token);
  if (bos === undefined || eos === undefined || unk === undefined) {
    throw new Error('tokenizer config: bos_token, eos_token and unk_token are required for a CLIP tokenizer');
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialAddedTokens(files.vocab, config),
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_REGEX }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: files.vocab,
      merges: parseMerges(files.merges),
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos, files.vocab[eos]],
      cls: [bos, files.vocab[bos]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  };
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
