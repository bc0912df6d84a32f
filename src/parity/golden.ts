/**
 * A golden folder (see src/test/fixtures/tiny-sd-golden/README.md): golden.safetensors with every
 * reference tensor, golden.json with prompts and settings, optional LoRA weights and gradients.
 * The gradients file holds the weights' own keys, so its tensors are named `grad:<key>` here.
 * F64 tensors (tiny-sd-golden-methods) come back rounded to float32.
 */
import { i64ToI32 } from '../model/safetensors-dtypes';
import { SafetensorsFile } from '../model/safetensors-reader';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Name prefix of lora_grads.safetensors tensors. */
export const GRAD_PREFIX = 'grad:';

interface GoldenFile {
  file: SafetensorsFile;
  /** Prefix of this file's tensor names. */
  prefix: string;
  /** Its F64 tensors (tiny-sd-golden-methods keeps a few), which `float64Readable` let the reader see as I64. */
  float64: Set<string>;
}

/**
 * The studio's safetensors reader refuses F64; a golden's F64 tensors are relabelled I64 (same
 * 8 bytes per value, same header length) so the file opens, and read back as float64 by `get`.
 */
async function float64Readable(blob: Blob): Promise<{ blob: Blob; float64: Set<string> }> {
  const headerLength = Number(new DataView(await blob.slice(0, 8).arrayBuffer()).getBigUint64(0, true));
  const header = await blob.slice(8, 8 + headerLength).text();
  const entries = JSON.parse(header) as Record<string, { dtype?: string }>;
  const float64 = new Set(Object.keys(entries).filter((k) => entries[k]?.dtype === 'F64'));
  if (float64.size === 0) return { blob, float64 };
  const relabelled = header.replace(/"dtype"(\s*):(\s*)"F64"/g, '"dtype"$1:$2"I64"');
  return { blob: new Blob([blob.slice(0, 8), relabelled, blob.slice(8 + headerLength)]), float64 };
}

export class Golden {
  private constructor(
    readonly json: Record<string, unknown>,
    private readonly files: GoldenFile[],
  ) {}

  static async open(read: (path: string) => Promise<Blob | null>): Promise<Golden> {
    const jsonBlob = await read('golden.json');
    const tensors = await read('golden.safetensors');
    if (!jsonBlob || !tensors) throw new Error('A golden folder needs golden.json and golden.safetensors.');
    const main = await float64Readable(tensors);
    const files: GoldenFile[] = [{ file: await SafetensorsFile.open(main.blob, 'golden.safetensors'), prefix: '', float64: main.float64 }];
    for (const [extra, prefix] of [['lora_weights.safetensors', ''], ['lora_grads.safetensors', GRAD_PREFIX]]) {
      const blob = await read(extra);
      if (blob) files.push({ file: await SafetensorsFile.open(blob, extra), prefix, float64: new Set() });
    }
    return new Golden(JSON.parse(await jsonBlob.text()), files);
  }

  private find(name: string): { file: SafetensorsFile; key: string; float64: boolean } | undefined {
    for (const { file, prefix, float64 } of this.files) {
      const key = name.startsWith(prefix) ? name.slice(prefix.length) : null;
      if (key !== null && file.has(key)) return { file, key, float64: float64.has(key) };
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  names(): string[] {
    return this.files.flatMap(({ file, prefix }) => file.names().map((n) => prefix + n));
  }

  async get(name: string): Promise<GoldenTensor> {
    const found = this.find(name);
    if (!found) throw new Error(`The golden has no tensor '${name}'.`);
    const { file, key, float64 } = found;
    const { dtype, shape } = file.info(key);
    const raw = await file.read(key);
    if (float64) {
      const bits = raw as BigInt64Array;
      return { shape, data: Float32Array.from(new Float64Array(bits.buffer, bits.byteOffset, bits.length)) };
    }
    if (dtype === 'I64') return { shape, data: i64ToI32(raw as BigInt64Array, name) };
    if (dtype !== 'F32') throw new Error(`Golden tensor '${name}' has dtype ${dtype}; F32 or I64 expected.`);
    return { shape, data: raw as Float32Array };
  }
}
