/**
 * How PEFT scales each layer of a diffusers LoRA, from the file's `lora_adapter_metadata` (the
 * LoraConfig diffusers saved, keys prefixed by component: `unet.lora_alpha`,
 * `text_encoder.alpha_pattern`, …): r and lora_alpha, overridden per module by rank_pattern and
 * alpha_pattern (PEFT's `get_pattern_key`: the first key k with `(.*\.)?(k)$` matching the module
 * name, or a `^…` regex), and scale = alpha / r, or alpha / √r with `use_rslora`.
 */
import { FormatError } from './errors';
import { DIFFUSERS_ADAPTER_METADATA } from './metadata';
import type { LoraComponent } from './lora-modules';

export interface PeftScaling {
  r?: number;
  loraAlpha?: number;
  rankPattern: [string, number][];
  alphaPattern: [string, number][];
  useRslora: boolean;
  useDora: boolean;
}

function fail(fileName: string, what: string): FormatError {
  return new FormatError('invalid', `${fileName}: its ${DIFFUSERS_ADAPTER_METADATA} ${what}.`);
}

/** The component's LoraConfig from the metadata, or null when the file has none for it. */
export function peftScaling(meta: Readonly<Record<string, string>>, component: LoraComponent, fileName: string): PeftScaling | null {
  const json = meta[DIFFUSERS_ADAPTER_METADATA];
  if (json === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw fail(fileName, 'is not valid JSON, so the layers\' strength cannot be known');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail(fileName, 'is not a JSON object');
  const all = parsed as Record<string, unknown>;
  const prefixed = Object.keys(all).some((k) => k.startsWith(`${component}.`));
  const anyPrefixed = Object.keys(all).some((k) => /^(unet|text_encoder(_2)?)\./.test(k));
  if (!prefixed && anyPrefixed) return null;
  const get = (field: string) => (prefixed ? all[`${component}.${field}`] : all[field]);
  const number = (field: string): number | undefined => {
    const v = get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw fail(fileName, `gives ${component} ${field} ${JSON.stringify(v)}, not a positive number`);
    return v;
  };
  const pattern = (field: string): [string, number][] => {
    const v = get(field);
    if (v === undefined || v === null) return [];
    if (typeof v !== 'object' || Array.isArray(v)) throw fail(fileName, `gives ${component} ${field} that is not an object`);
    return Object.entries(v as Record<string, unknown>).map(([k, x]) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw fail(fileName, `gives ${component} ${field}['${k}'] = ${JSON.stringify(x)}, not a positive number`);
      return [k, x];
    });
  };
  return { r: number('r'), loraAlpha: number('lora_alpha'), rankPattern: pattern('rank_pattern'), alphaPattern: pattern('alpha_pattern'), useRslora: get('use_rslora') === true, useDora: get('use_dora') === true };
}

/** PEFT's `get_pattern_key`: the value of the first pattern matching `module`, if any. */
export function patternValue(pattern: readonly [string, number][], module: string, fileName: string): number | undefined {
  for (const [key, value] of pattern) {
    let re: RegExp;
    try {
      re = key.startsWith('^') ? new RegExp(key) : new RegExp(`^(?:.*\\.)?(?:${key})$`);
    } catch {
      throw fail(fileName, `has a pattern '${key}' that is not a regular expression`);
    }
    if (re.test(module)) return value;
  }
  return undefined;
}

/**
 * The layer's alpha such that alpha / (its rank) is the scale PEFT applies. `module` is its
 * name inside the component's model (`peftModuleName`).
 */
export function peftAlpha(s: PeftScaling, module: string, rank: number, fileName: string): number {
  const r = patternValue(s.rankPattern, module, fileName) ?? s.r ?? rank;
  if (r !== rank) throw new FormatError('invalid', `${fileName}: LoRA layer '${module}' has rank ${rank}, but its metadata says r = ${r}; PEFT would not load it.`);
  const alpha = patternValue(s.alphaPattern, module, fileName) ?? s.loraAlpha ?? r;
  return s.useRslora ? (alpha / Math.sqrt(r)) * rank : alpha;
}
