/**
 * A golden folder (see src/test/fixtures/tiny-sd-golden/README.md): golden.safetensors with every
 * reference tensor, golden.json with prompts and settings, optional LoRA weights and gradients.
 * The gradients file holds the weights' own keys, so its tensors are named `grad:<key>` here.
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
    const files: GoldenFile[] = [{ file: await SafetensorsFile.open(await withoutFloat64(tensors), 'golden.safetensors'), prefix: '' }];
    for (const [extra, prefix] of [['lora_weights.safetensors', ''], ['lora_grads.safetensors', GRAD_PREFIX]]) {
      const blob = await read(extra);
      if (blob) files.push({ file: await SafetensorsFile.open(blob, extra), prefix });
    }
    return new Golden(JSON.parse(await jsonBlob.text()), files);
  }

  private find(name: string): { file: SafetensorsFile; key: string } | undefined {
    for (const { file, prefix } of this.files) {
      const key = name.startsWith(prefix) ? name.slice(prefix.length) : null;
      if (key !== null && file.has(key)) return { file, key };
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
    const { file, key } = found;
    const { dtype, shape } = file.info(key);
    const raw = await file.read(key);
    if (dtype === 'I64') return { shape, data: i64ToI32(raw as BigInt64Array, name) };
    if (dtype !== 'F32') throw new Error(`Golden tensor '${name}' has dtype ${dtype}; F32 or I64 expected.`);
    return { shape, data: raw as Float32Array };
  }
}

/**
 * The file without its F64 tensors (the methods golden keeps float64 copies of C and C⁻¹ beside
 * their F32 ones; the studio's reader takes no F64): a new header and the kept tensors' bytes,
 * sliced from the file without reading them.
 */
async function withoutFloat64(file: Blob): Promise<Blob> {
  const n = Number(new DataView(await file.slice(0, 8).arrayBuffer()).getBigUint64(0, true));
  const header = JSON.parse(await file.slice(8, 8 + n).text()) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  if (!entries.some(([, e]) => e.dtype === 'F64')) return file;
  const kept: Record<string, unknown> = header.__metadata__ ? { __metadata__: header.__metadata__ } : {};
  const parts: Blob[] = [];
  let at = 0;
  for (const [name, e] of entries.filter(([, e]) => e.dtype !== 'F64').sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0])) {
    const [begin, end] = e.data_offsets;
    kept[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + end - begin] };
    parts.push(file.slice(8 + n + begin, 8 + n + end));
    at += end - begin;
  }
  const json = new TextEncoder().encode(JSON.stringify(kept));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return new Blob([length, json, ...parts]);
}
