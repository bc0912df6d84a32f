/**
 * Generation settings carried inside a PNG, as AUTOMATIC1111 writes them: a text chunk with the
 * keyword `parameters` holding its "infotext" (modules/processing.py `create_infotext`, read back
 * by modules/infotext_utils.py `parse_generation_parameters`):
 *
 *   a photo of <my-dog> <lora:my-dog-lora-kohya:0.8>
 *   Negative prompt: blurry
 *   Steps: 20, Sampler: DDIM, CFG scale: 5, Seed: 7, Size: 64x64, Model: shapes-sd
 *
 * LoRAs are written into the prompt as A1111's extra-network tags (`<lora:name:strength>`, or
 * `<lora:name:te:unet>` when the text encoder has its own multiplier, A1111's positional order);
 * embeddings are named by the prompt itself, as in A1111. Values holding `,`, `:` or a newline
 * are JSON-quoted. Text that Latin-1 cannot hold goes in an iTXt chunk (UTF-8), as PIL does for
 * A1111. Plain data, no tfjs: the command line writes these and the page's gallery reads them.
 */
import { encode } from 'fast-png';

export interface LoraUse {
  /** The LoRA's name as A1111 knows it: its file name without extension. */
  name: string;
  /** The UNet's multiplier (and the text encoder's, unless `textEncoderStrength`). */
  strength: number;
  /** A1111's `<lora:name:te:unet>`: the text encoder's own multiplier. */
  textEncoderStrength?: number;
}

export interface GenerationParameters {
  prompt: string;
  /** '' when none. */
  negativePrompt: string;
  steps: number;
  /** A1111's sampler name (`DDIM`, `Euler`); see `a1111Sampler`. */
  sampler: string;
  /** CFG scale. */
  guidanceScale: number;
  seed: number;
  width: number;
  height: number;
  /** The model's name (A1111: its checkpoint's file name). */
  model?: string;
  loras: LoraUse[];
  /** Every other `key: value` of the settings line, unquoted, in order (A1111's hashes, versions, …). */
  extra: Record<string, string>;
}

export type ParameterSettings = Omit<GenerationParameters, 'negativePrompt' | 'loras' | 'extra'> & Partial<Pick<GenerationParameters, 'negativePrompt' | 'loras' | 'extra'>>;

const SAMPLERS: Record<string, string> = { ddim: 'DDIM', euler: 'Euler' };

/** A1111's name for one of the studio's samplers (`ddim` → `DDIM`). */
export function a1111Sampler(name: string): string {
  return SAMPLERS[name] ?? name;
}

/** The studio's sampler for an A1111 name, or null when the studio has none like it. */
export function studioSampler(a1111: string): string | null {
  return Object.keys(SAMPLERS).find((k) => SAMPLERS[k] === a1111) ?? null;
}

/** A1111's `quote`: JSON-quoted when the value holds a comma, a colon or a newline. */
function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    return value;
  }
}

export function formatParameters(s: ParameterSettings): string {
  const loras = (s.loras ?? [])
    .map((l) => (l.textEncoderStrength === undefined || l.textEncoderStrength === l.strength ? ` <lora:${l.name}:${l.strength}>` : ` <lora:${l.name}:${l.textEncoderStrength}:${l.strength}>`))
    .join('');
  const negative = s.negativePrompt ? `\nNegative prompt: ${s.negativePrompt}` : '';
  const fields: [string, string | number | undefined][] = [
    ['Steps', s.steps],
    ['Sampler', s.sampler],
    ['CFG scale', s.guidanceScale],
    ['Seed', s.seed],
    ['Size', `${s.width}x${s.height}`],
    ['Model', s.model],
    ...Object.entries(s.extra ?? {}),
  ];
  const line = fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${quote(String(v))}`).join(', ');
  return `${s.prompt}${loras}${negative}\n${line}`.trim();
}

/** A1111's `re_param`: `key: value` pairs, a value quoted or up to the next comma. */
const PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
const SIZE = /^(\d+)x(\d+)$/;
const LORA_TAG = /\s*<lora:([^:>]+)((?::[^:>]*)*)>/g;

/** A1111's extra-network arguments: te (first positional), unet (second, default te), or `te=`/`unet=`. */
function loraUse(name: string, args: string): LoraUse {
  const parts = args.split(':').slice(1);
  const positional = parts.filter((p) => !p.includes('='));
  const named = Object.fromEntries(parts.filter((p) => p.includes('=')).map((p) => p.split('=', 2) as [string, string]));
  const number = (v: string | undefined, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));
  const te = number(named.te, number(positional[0], 1));
  const unet = number(named.unet, number(positional[1], te));
  return te === unet ? { name, strength: unet } : { name, strength: unet, textEncoderStrength: te };
}

/**
 * Reads an infotext as A1111 does: the last line is the settings when it holds at least three
 * `key: value` pairs, lines from `Negative prompt:` on are the negative prompt, the rest the
 * prompt. LoRA tags leave the prompt for `loras`. Missing or unreadable numbers are NaN.
 */
export function parseParameters(text: string): GenerationParameters {
  const lines = text.trim().split('\n');
  let last = lines.pop() ?? '';
  if ([...last.matchAll(PARAM)].length < 3) {
    lines.push(last);
    last = '';
  }
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (let line of lines) {
    line = line.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice(16).trim();
    }
    (inNegative ? negative : prompt).push(line);
  }
  const fields: Record<string, string> = {};
  for (const [, key, raw] of last.matchAll(PARAM)) fields[key] = unquote(raw.trim());
  const loras: LoraUse[] = [];
  const promptText = prompt.join('\n').replace(LORA_TAG, (_, name: string, args: string) => {
    loras.push(loraUse(name, args));
    return '';
  });
  const { Steps, Sampler, 'CFG scale': cfg, Seed, Size, Model, ...extra } = fields;
  const size = SIZE.exec(Size ?? '');
  return {
    prompt: tidyPrompt(promptText),
    negativePrompt: negative.join('\n'),
    steps: Number(Steps ?? NaN),
    sampler: Sampler ?? '',
    guidanceScale: Number(cfg ?? NaN),
    seed: Number(Seed ?? NaN),
    width: size ? Number(size[1]) : NaN,
    height: size ? Number(size[2]) : NaN,
    ...(Model !== undefined && { model: Model }),
    loras,
    extra,
  };
}

/** What a removed tag leaves behind: doubled commas, a comma at either end. */
function tidyPrompt(prompt: string): string {
  return prompt.replace(/,(\s*,)+/g, ',').replace(/^[\s,]+|[\s,]+$/g, '');
}

// PNG chunks

const KEYWORD = 'parameters';
const LATIN1 = /^[\u0000-\u00ff]*$/;

export interface PngPixels {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * An RGBA PNG (fast-png's encoder) carrying `text` under the keyword `parameters`, in a tEXt chunk
 * (an iTXt one beyond Latin-1) right after the header: before the image data, where PIL puts it
 * and where readers that stop at the first IDAT still find it.
 */
export function encodePngWithParameters(image: PngPixels, text: string): Uint8Array {
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const png = encode({ width: image.width, height: image.height, data, channels: 4, depth: 8 });
  let body: Uint8Array;
  if (LATIN1.test(text)) {
    body = concat(latin1Bytes(KEYWORD), new Uint8Array(1), latin1Bytes(text)); // keyword, NUL, text
  } else {
    // iTXt: keyword, NUL, compression flag 0, method 0, language '' NUL, translated keyword '' NUL, UTF-8 text.
    body = concat(latin1Bytes(KEYWORD), new Uint8Array(5), new TextEncoder().encode(text));
  }
  const afterHeader = 8 + 25; // signature, IHDR (length, type, 13 bytes, CRC)
  return concat(png.subarray(0, afterHeader), chunk(LATIN1.test(text) ? 'tEXt' : 'iTXt', body), png.subarray(afterHeader));
}

/** The `parameters` text of a PNG (tEXt, or uncompressed iTXt), or null when it has none. */
export function readPngParameters(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = latin1.decode(bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, Math.min(at + 8 + length, bytes.length));
    const nul = body.indexOf(0);
    if ((type === 'tEXt' || type === 'iTXt') && nul >= 0 && latin1.decode(body.subarray(0, nul)) === KEYWORD) {
      if (type === 'tEXt') return latin1.decode(body.subarray(nul + 1));
      if (body[nul + 1] === 0) {
        const language = body.indexOf(0, nul + 3);
        const translated = body.indexOf(0, language + 1);
        if (language >= 0 && translated >= 0) return new TextDecoder().decode(body.subarray(translated + 1));
      }
    }
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return null;
}

function latin1Bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(latin1Bytes(type), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

let CRC_TABLE: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  CRC_TABLE ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
