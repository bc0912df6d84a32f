/**
 * tokenizer.json from the "slow" files SD repos ship (tokenizer/vocab.json + merges.txt +
 * tokenizer_config.json): the structure transformers' CLIPTokenizerFast saves for them (NFC,
 * whitespace clean and lowercase; CLIP's split regex then byte-level; BPE with a `</w>`
 * end-of-word suffix), which `@huggingface/tokenizers` loads.
 */

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

/** CLIP's pre-tokenizer split (the regex of openai/CLIP's SimpleTokenizer). */
const CLIP_SPLIT_REGEX = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** transformers' special-token attributes, in the order it registers them (a later one wins). */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;

export function specContent(spec: SpecialTokenSpec | null | undefined): string | undefined {
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
