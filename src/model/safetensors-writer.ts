/** safetensors, written as the reference implementation writes them. */
import { DTYPE_BYTES, type SafetensorsTensor } from './safetensors-dtypes';
import { headerTooLarge, MAX_HEADER_BYTES, SafetensorsError } from './safetensors-reader';

export interface HeaderEntry {
  dtype: string;
  shape: readonly number[];
  data_offsets: readonly [number, number];
}

/**
 * Serializes tensors as the reference implementation does: `__metadata__` first, header padded
 * with spaces to a multiple of 8, data contiguous. Header keys keep insertion order; the data is
 * laid out by element size (largest first, stable) so every tensor is aligned to its element size.
 */
export function writeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  const file = 'writeSafetensors';
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError(file, "'__metadata__' is reserved.", name);
    checkTensorForWrite(file, name, t);
  }
  const layout = entries
    .map(([name, t], index) => ({ name, t, index }))
    .sort((a, b) => DTYPE_BYTES[b.t.dtype] - DTYPE_BYTES[a.t.dtype] || a.index - b.index);
  const offsets = new Map<string, [number, number]>();
  let dataLength = 0;
  for (const { name, t } of layout) {
    offsets.set(name, [dataLength, dataLength + t.data.byteLength]);
    dataLength += t.data.byteLength;
  }

  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new SafetensorsError(file, `__metadata__ value of '${key}' is not a string.`);
    }
  }
  const json = new TextEncoder().encode(headerJson(entries.map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(name)! }]), metadata));
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) throw new SafetensorsError(file, headerTooLarge(headerLength));

  const out = new Uint8Array(8 + headerLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  for (const { name, t } of layout) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 8 + headerLength + offsets.get(name)![0]);
  }
  return out;
}

function checkTensorForWrite(file: string, name: string, t: SafetensorsTensor): void {
  const expected = { F32: Float32Array, F16: Uint16Array, BF16: Uint16Array, I64: BigInt64Array }[t.dtype];
  if (!expected) throw new SafetensorsError(file, `unknown dtype ${String(t.dtype)}.`, name);
  if (!(t.data instanceof expected)) throw new SafetensorsError(file, `${t.dtype} data must be a ${expected.name}.`, name);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, `shape [${t.shape.join(', ')}] must hold non-negative integers.`, name);
  }
  const elements = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== elements) {
    throw new SafetensorsError(file, `size mismatch: shape [${t.shape.join(', ')}] has ${elements} elements, data has ${t.data.length}.`, name);
  }
}

/**
 * The header JSON in entry order, built by hand: assigning `__proto__` to a plain object would set
 * its prototype, and `JSON.stringify` would drop the tensor (or move integer-like names first).
 */
export function headerJson(entries: readonly (readonly [string, HeaderEntry])[], metadata?: Record<string, string>): string {
  const members = (pairs: readonly (readonly [string, unknown])[]) => pairs.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
  const parts = members(entries);
  if (metadata) parts.unshift(`"__metadata__":{${members(Object.entries(metadata)).join(',')}}`);
  return `{${parts.join(',')}}`;
}
