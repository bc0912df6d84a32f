/**
 * The byte size of a safetensors file from names, dtypes and shapes only: the same header and
 * layout `writeSafetensors` produces (header JSON padded to 8 bytes; data ordered by element size,
 * largest first, stable), so sizes can be known without allocating the tensors. The exporters'
 * tests check it equals the real output byte for byte.
 */
import { DTYPE_BYTES, type SafetensorsDtype } from '../../model/safetensors-dtypes';
import { headerJson } from '../../model/safetensors-writer';

export interface PlannedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
}

export function safetensorsByteSize(tensors: readonly PlannedTensor[], metadata?: Record<string, string>): number {
  const bytes = (t: PlannedTensor) => t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
  const layout = tensors.map((t, index) => ({ t, index })).sort((a, b) => DTYPE_BYTES[b.t.dtype] - DTYPE_BYTES[a.t.dtype] || a.index - b.index);
  const offsets = new Map<string, [number, number]>();
  let dataLength = 0;
  for (const { t } of layout) {
    offsets.set(t.name, [dataLength, dataLength + bytes(t)]);
    dataLength += bytes(t);
  }
  const header = headerJson(tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(t.name)! }]), metadata);
  const json = new TextEncoder().encode(header).byteLength;
  return 8 + Math.ceil(json / 8) * 8 + dataLength;
}
