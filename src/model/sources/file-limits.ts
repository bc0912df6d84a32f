/**
 * What a downloaded file of a diffusers folder may be, by its path: the most bytes it may have,
 * and whether it is text (JSON, merges), which an HTML page never is.
 *
 * Caps are far above the real files (Stable Diffusion's configs are under 5 KB, CLIP's vocab.json
 * 1.1 MB, merges.txt 0.5 MB, tokenizer.json 2.2 MB) and far below what would hurt, so an endless or
 * wrong body stops early. Weights have no cap of their own: their size must equal the announced one.
 */
export interface FileLimits {
  maxBytes: number;
  textual: boolean;
}

const MB = 1 << 20;
/** Larger than any model file we read (bounds the read loop of weights). */
export const MAX_FILE_BYTES = 16e9;

const CAPS: readonly [RegExp, number][] = [
  [/(^|\/)tokenizer\.json$/, 32 * MB], // big multilingual tokenizers reach ~20 MB
  [/(^|\/)vocab\.json$/, 8 * MB],
  [/(^|\/)merges\.txt$/, 8 * MB],
  [/(^|\/)(model_index|config|scheduler_config|tokenizer_config|special_tokens_map|preprocessor_config)\.json$/, 1 * MB],
  [/\.json$/, 16 * MB],
  [/\.txt$/, 8 * MB],
];

export function fileLimits(path: string): FileLimits {
  const cap = CAPS.find(([pattern]) => pattern.test(path));
  return cap ? { maxBytes: cap[1], textual: true } : { maxBytes: MAX_FILE_BYTES, textual: false };
}
