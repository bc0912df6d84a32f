/**
 * A golden folder (see src/test/fixtures/tiny-sd-golden/README.md): golden.safetensors with every
 * reference tensor, golden.json with prompts and settings, optional LoRA weights and gradients.
 */
import { SafetensorsFile, i64ToI32 } from '../model/safetensors';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export class Golden {
  private constructor(
    readonly json: Record<string, unknown>,
    private readonly files: SafetensorsFile[],
  ) {}

  static async open(read: (path: string) => Promise<Blob | null>): Promise<Golden> {
    const jsonBlob = await read('golden.json');
    const tensors = await read('golden.safetensors');
    if (!jsonBlob || !tensors) throw new Error('A golden folder needs golden.json and golden.safetensors.');
    const files = [await SafetensorsFile.open(tensors, 'golden.safetensors')];
    for (const extra of ['lora_weights.safetensors', 'lora_grads.safetensors']) {
      const blob = await read(extra);
      if (blob) files.push(await SafetensorsFile.open(blob, extra));
    }
    return new Golden(JSON.parse(await jsonBlob.text()), files);
  }

  private file(name: string): SafetensorsFile | undefined {
    return this.files.find((f) => f.has(name));
  }

  has(name: string): boolean {
    return this.file(name) !== undefined;
  }

  names(): string[] {
    return this.files.flatMap((f) => f.names());
  }

  async get(name: string): Promise<GoldenTensor> {
    const file = this.file(name);
    if (!file) throw new Error(`The golden has no tensor '${name}'.`);
    const { dtype, shape } = file.info(name);
    const raw = await file.read(name);
    if (dtype === 'I64') return { shape, data: i64ToI32(raw as BigInt64Array, name) };
    if (dtype !== 'F32') throw new Error(`Golden tensor '${name}' has dtype ${dtype}; F32 or I64 expected.`);
    return { shape, data: raw as Float32Array };
  }
}
