/**
 * A torch tensor's values as float32: its view (offset, size and stride, in elements) gathered
 * from its storage's little-endian bytes. F32 is read as is, F16 and BF16 exactly, F64 rounded.
 * The view is checked to lie inside the storage and to hold no more values than it does.
 */
import { bf16ToF32, f16ToF32 } from '../../model/safetensors-dtypes';
import { FormatError } from './errors';
import type { StorageDtype, TensorRef } from './pickle-values';

export const STORAGE_ELEMENT_BYTES: Readonly<Record<StorageDtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** `storage` is the bytes of the tensor's storage; `what` names the tensor in messages. */
export function tensorFloat32(tensor: TensorRef, storage: Uint8Array, what: string): Float32Array {
  const fail = (problem: string) => new FormatError('invalid', `${what}: ${problem}.`);
  const { dtype, numel: storageNumel } = tensor.storage;
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16' && dtype !== 'F64') throw fail(`the tensor is ${dtype}, not floating point`);
  const bytesPer = STORAGE_ELEMENT_BYTES[dtype];
  if (storage.length !== storageNumel * bytesPer) throw fail(`its storage holds ${storage.length} bytes, not the ${storageNumel} ${dtype} values its header says`);

  const { offset, size, stride } = tensor;
  let numel = 1;
  for (const n of size) numel = Math.min(numel * n, storageNumel + 1); // capped: only compared below
  if (numel > storageNumel) throw fail(`a view of [${size.join(', ')}] holds more values than its storage's ${storageNumel}`);
  if (numel === 0) return new Float32Array(0);
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if (!(last < storageNumel)) throw fail(`the view (offset ${offset}, size [${size.join(', ')}], stride [${stride.join(', ')}]) runs past its storage's ${storageNumel} values`);

  const view = new DataView(storage.buffer, storage.byteOffset, storage.byteLength);
  if (dtype === 'F32') return gather(new Float32Array(numel), tensor, (i) => view.getFloat32(4 * i, true));
  if (dtype === 'F64') return gather(new Float32Array(numel), tensor, (i) => view.getFloat64(8 * i, true));
  const bits = gather(new Uint16Array(numel), tensor, (i) => view.getUint16(2 * i, true));
  return dtype === 'F16' ? f16ToF32(bits) : bf16ToF32(bits);
}

/** Fills `out` in row-major order with `read(storage index)`: an odometer over the dims. */
function gather<T extends Float32Array | Uint16Array>(out: T, { offset, size, stride }: TensorRef, read: (index: number) => number): T {
  const at = new Array<number>(size.length).fill(0);
  let index = offset;
  for (let i = 0; i < out.length; i++) {
    out[i] = read(index);
    for (let d = size.length - 1; d >= 0; d--) {
      index += stride[d];
      if (++at[d] < size[d]) break;
      index -= stride[d] * size[d];
      at[d] = 0;
    }
  }
  return out;
}
