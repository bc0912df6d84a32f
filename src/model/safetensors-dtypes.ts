/**
 * The safetensors dtypes the studio reads and writes, their sizes, typed arrays and the exact
 * conversions between float formats (F16 and BF16 are kept as raw bits in a Uint16Array).
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I64';

/** Bytes per element of the dtypes we read and write. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8 };

/** F32 → Float32Array; F16 and BF16 → Uint16Array of raw bits; I64 → BigInt64Array. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array;

export type SafetensorsTensor =
  | { dtype: 'F32'; shape: readonly number[]; data: Float32Array }
  | { dtype: 'F16' | 'BF16'; shape: readonly number[]; data: Uint16Array }
  | { dtype: 'I64'; shape: readonly number[]; data: BigInt64Array };

/** IEEE half-precision bits → float32 values (exact). */
export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      out[i] = (sign ? -1 : 1) * mantissa * 2 ** -24; // zero or subnormal: exact in f32
    } else if (exponent === 31) {
      outBits[i] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // inf / NaN (payload kept)
    } else {
      outBits[i] = (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  return out;
}

/** bfloat16 bits → float32 values (exact: bf16 is the top half of an f32). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}

/** float32 values → IEEE half bits, rounding to nearest even (overflow → ±inf, NaN kept NaN). */
export function f32ToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const inBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = inBits[i];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
      continue;
    }
    const e = exponent - 112; // rebias 127 → 15
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // below half the smallest subnormal
        continue;
      }
      const full = mantissa | 0x800000; // implicit 1
      const shift = 14 - e; // 14..24
      const half = full >>> shift;
      const rest = full & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      out[i] = sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
    } else {
      const half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      // A carry out of the mantissa correctly bumps the exponent (up to inf).
      out[i] = sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
    }
  }
  return out;
}

/** float32 values → bfloat16 bits, rounding to nearest even (NaN kept NaN). */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const inBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = inBits[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** I64 → Int32Array; throws a RangeError naming the first value outside the int32 range. */
export function i64ToI32(values: BigInt64Array, what = 'I64 tensor'): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < -2147483648n || v > 2147483647n) throw new RangeError(`${what}: value ${v} at index ${i} does not fit in int32.`);
    out[i] = Number(v);
  }
  return out;
}
