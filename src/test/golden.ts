/**
 * Test-only access to the tiny-sd fixture and its goldens. Holds a minimal safetensors parser
 * (8-byte LE header length, JSON header, raw little-endian data; F32, F64 and I64) so these tests
 * do not depend on the project's reader.
 */
import { readFileSync } from 'node:fs';

const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixturePath(relative: string): URL {
  return new URL(relative, FIXTURES);
}

export function readFixtureText(relative: string): string {
  return readFileSync(fixturePath(relative), 'utf8');
}

export function readFixtureJson<T = Record<string, unknown>>(relative: string): T {
  return JSON.parse(readFixtureText(relative)) as T;
}

export interface GoldenTensor {
  shape: number[];
  /** F32 values, or F64 / I64 values as numbers (all golden integers are small). */
  data: Float32Array | number[];
}

export function parseSafetensors(bytes: Uint8Array): Map<string, GoldenTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const tensors = new Map<string, GoldenTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = entry.data_offsets;
    const start = base + begin;
    if (entry.dtype === 'F32') {
      const data = new Float32Array((end - begin) / 4);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(start + 4 * i, true);
      tensors.set(name, { shape: entry.shape, data });
    } else if (entry.dtype === 'F64') {
      const data: number[] = [];
      for (let i = 0; i < (end - begin) / 8; i++) data.push(view.getFloat64(start + 8 * i, true));
      tensors.set(name, { shape: entry.shape, data });
    } else if (entry.dtype === 'I64') {
      const data: number[] = [];
      for (let i = 0; i < (end - begin) / 8; i++) data.push(Number(view.getBigInt64(start + 8 * i, true)));
      tensors.set(name, { shape: entry.shape, data });
    } else {
      throw new Error(`golden ${name}: dtype ${entry.dtype} not handled by the test parser`);
    }
  }
  return tensors;
}

let goldenCache: Map<string, GoldenTensor> | undefined;

/** A tensor of tiny-sd-golden/golden.safetensors by name. */
export function golden(name: string): GoldenTensor {
  goldenCache ??= parseSafetensors(readFileSync(fixturePath('tiny-sd-golden/golden.safetensors')));
  const t = goldenCache.get(name);
  if (!t) throw new Error(`golden tensor ${name} not found`);
  return t;
}

/** Row `i` of a golden tensor's leading axis, with the remaining shape. */
export function goldenRow(name: string, i: number): GoldenTensor {
  const t = golden(name);
  const rowShape = t.shape.slice(1);
  const size = rowShape.reduce((a, b) => a * b, 1);
  return { shape: rowShape, data: t.data.slice(i * size, (i + 1) * size) };
}

export interface GoldenJson {
  prompts: string[];
  token_ids_unpadded: number[][];
  token_ids_untruncated_lengths: number[];
  added_token: { token: string; id: number; len_tokenizer_after: number };
  added_token_prompts: string[];
  scheduler_config: Record<string, unknown>;
  euler_init_noise_sigma: number;
  pipeline: { prompt: string; negative_prompt: string; num_inference_steps: number };
}

export function goldenJson(): GoldenJson {
  return readFixtureJson<GoldenJson>('tiny-sd-golden/golden.json');
}

let methodsCache: Map<string, GoldenTensor> | undefined;

/** A tensor of tiny-sd-golden-methods/golden.safetensors (Perfusion, P+, DreamBooth) by name. */
export function goldenMethods(name: string): GoldenTensor {
  methodsCache ??= parseSafetensors(readFileSync(fixturePath('tiny-sd-golden-methods/golden.safetensors')));
  const t = methodsCache.get(name);
  if (!t) throw new Error(`methods golden tensor ${name} not found`);
  return t;
}

/** A tensor's suggested tolerance in tiny-sd-golden-methods/golden.json (relative: max abs err / max |golden|). */
export function goldenMethodsTolerance(name: string): number {
  const tensors = readFixtureJson<{ tensors: Record<string, { suggested_tolerance: number | string }> }>('tiny-sd-golden-methods/golden.json').tensors;
  const tol = tensors[name]?.suggested_tolerance;
  if (typeof tol !== 'number') throw new Error(`methods golden tensor ${name} has no numeric tolerance`);
  return tol;
}
