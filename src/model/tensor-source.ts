/** What a weights file offers the loader (the safetensors reader implements it), and its values as fp32. */
import { bf16ToF32, f16ToF32 } from './safetensors-dtypes';

export type StoredDtype = 'F32' | 'F16' | 'BF16' | 'I64';

/** What a weights file offers (the safetensors reader implements it). */
export interface TensorSource {
  names(): string[];
  info(name: string): { dtype: StoredDtype; shape: number[] };
  /** F32 → Float32Array; F16/BF16 → raw 16-bit words; I64 → BigInt64Array. */
  read(name: string): Promise<Float32Array | Uint16Array | BigInt64Array>;
}

export class WeightError extends Error {
  override readonly name = 'WeightError';
}

export async function readAsFloat32(source: TensorSource, name: string): Promise<Float32Array> {
  const { dtype } = source.info(name);
  const data = await source.read(name);
  if (dtype === 'F32') return data as Float32Array;
  if (dtype === 'F16') return f16ToF32(data as Uint16Array);
  if (dtype === 'BF16') return bf16ToF32(data as Uint16Array);
  throw new WeightError(`Weight '${name}' has dtype ${dtype}; a float type is needed.`);
}
