/**
 * Frozen weights kept on the GPU as f16 pairs in int32 tensors (half the bytes of fp32), used
 * without a persistent fp32 copy.
 *
 * Format: a weight of n elements (row-major, PyTorch layout) is `data`, an int32 tensor of
 * ceil(n/2) words; element e is in word e/2, the low 16 bits when e is even (as WGSL's
 * `unpack2x16float` reads them); the high half of the last word of an odd n is zero.
 *
 * - `packF16` converts on the CPU (f32 -> f16, round to nearest even) or takes raw f16 bits as
 *   stored in a safetensors F16 tensor; allocates `data`.
 * - `unpackF16` (`shaders/packed_unpack.wgsl`, one invocation per word) allocates a transient
 *   fp32 tensor.
 * - `linearPacked(x, w, bias?)`: y = x·Wᵀ + b, W [out, in] packed. One tiled program
 *   (`shaders/packed_matmul.wgsl`) unpacks W while filling its workgroup tiles (aTile:
 *   TILE_M x TILE_K f32 of x, bTile: TILE_K x TILE_N f32 of Wᵀ, 10 KiB at most) and allocates
 *   only y. Differentiable in x: dx = dy·W is the same program reading W untransposed (allocates
 *   dx). W and the bias are frozen; the bias is a plain argument that gets no gradient.
 * - `conv2dPacked(x, w, bias?, {stride, pad})`: unpacks W [out, in, kh, kw] straight into
 *   tfjs' filter layout [kh, kw, in, out] (`shaders/packed_unpack_hwio.wgsl`), runs tf.conv2d,
 *   and frees that transient filter before returning; the backward unpacks it again for
 *   tf.conv2dTranspose (tf.conv2d's own input gradient). A filter over 16 MB in fp32 is unpacked
 *   and convolved in output-channel windows, so no transient filter is bigger than that.
 *   Chosen over a packed conv kernel by measurement at [1, 32, 32, 320] 3x3 320->320 on
 *   lavapipe: the unpack is 2-3% of the conv, and an implicit-GEMM conv built on
 *   packed_matmul.wgsl was slower than tf.conv2d.
 */
import * as tf from '../gpu/tf';
import { disposeUnpooled } from '../gpu/memory';
import unpackSource from '../../shaders/packed_unpack.wgsl?raw';
import unpackHwioSource from '../../shaders/packed_unpack_hwio.wgsl?raw';
import matmulSource from '../../shaders/packed_matmul.wgsl?raw';
import { runKernel, workgroupGrid, type KernelDef } from './kernel';

export interface PackedWeight {
  /** int32 [ceil(n/2)]: f16 pairs, element e in word e/2 (low half when e is even). */
  data: tf.Tensor;
  /** Logical shape of the weight (n elements, row-major). */
  shape: number[];
  dispose(): void;
}

// ---------------------------------------------------------------------------------------------
// CPU-side conversion

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary16 bits of `value`, rounded to nearest even (overflow -> inf, NaN stays NaN). */
export function f16Bits(value: number): number {
  f32Scratch[0] = value;
  return f16BitsOfF32Bits(u32Scratch[0]);
}

function f16BitsOfF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let half: number;
  let shift: number;
  if (e > 0) {
    half = sign | (e << 10) | (mantissa >>> 13);
    shift = 13;
  } else {
    // Subnormal half: value / 2^-24, from the mantissa with its implicit bit.
    shift = 14 - e;
    if (shift > 24) return sign;
    mantissa |= 0x800000;
    half = sign | (mantissa >>> shift);
  }
  const rest = mantissa & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  // A carry out of the mantissa bumps the exponent, up to inf: still correctly rounded.
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
  return half;
}

/** The f32 value of binary16 bits (exact). */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Packs f32 values (rounded to f16) or raw f16 bits into a GPU-resident PackedWeight. */
export function packF16(values: Float32Array | Uint16Array, shape: number[]): PackedWeight {
  const n = tf.util.sizeFromShape(shape);
  if (values.length !== n) throw new Error(`packF16: ${values.length} values for shape [${shape}] (${n} elements).`);
  const halves = new Uint16Array(n + (n % 2));
  if (values instanceof Uint16Array) {
    halves.set(values);
  } else {
    const bits = new Uint32Array(values.buffer, values.byteOffset, n);
    for (let i = 0; i < n; i++) halves[i] = f16BitsOfF32Bits(bits[i]);
  }
  // Little-endian: element 2i lands in the low half of word i.
  const words = new Int32Array(halves.buffer, 0, halves.length / 2);
  const data = tf.tensor1d(words, 'int32');
  return { data, shape: [...shape], dispose: () => data.dispose() };
}

// ---------------------------------------------------------------------------------------------
// Unpacking

const UNPACK_WORKGROUP = 256;
const UNPACK: KernelDef = {
  name: 'packed_unpack',
  source: unpackSource,
  inputs: ['w'],
  uniforms: [['count', 'i32'], ['elements', 'i32']],
  workgroupSize: [UNPACK_WORKGROUP, 1, 1],
};
const UNPACK_HWIO: KernelDef = {
  name: 'packed_unpack_hwio',
  source: unpackHwioSource,
  inputs: ['w'],
  uniforms: [['count', 'i32'], ['firstWord', 'i32'], ['elements', 'i32'], ['outChannels', 'i32'], ['inChannels', 'i32'], ['kh', 'i32'], ['kw', 'i32']],
  workgroupSize: [UNPACK_WORKGROUP, 1, 1],
};

/** A transient fp32 copy of `w` (shape w.shape); the caller disposes it. */
export function unpackF16(w: PackedWeight): tf.Tensor {
  const count = w.data.size;
  return runKernel(UNPACK, {
    inputs: [w.data],
    outputShape: w.shape,
    uniforms: { count, elements: tf.util.sizeFromShape(w.shape) },
    dispatch: workgroupGrid(Math.ceil(count / UNPACK_WORKGROUP)),
  });
}

/** Conv weight [out, in, kh, kw] -> fp32 tfjs filter [kh, kw, in, out]; the caller disposes it. */
export function unpackConvFilter(w: PackedWeight, first = 0, count?: number): tf.Tensor4D {
  if (w.shape.length !== 4) throw new Error(`unpackConvFilter: weight shape [${w.shape}] is not [out, in, kh, kw].`);
  const [out, inChannels, kh, kw] = w.shape;
  const perChannel = inChannels * kh * kw;
  const n = count ?? out - first;
  const whole = first === 0 && n === out;
  if (!whole && (perChannel % 2 !== 0 || first < 0 || n < 1 || first + n > out)) {
    throw new Error(`unpackConvFilter: output channels [${first}, ${first + n}) of [${w.shape}] are not a whole-word window.`);
  }
  const words = whole ? w.data.size : (n * perChannel) / 2;
  return runKernel(UNPACK_HWIO, {
    inputs: [w.data],
    outputShape: [kh, kw, inChannels, n],
    uniforms: { count: words, firstWord: (first * perChannel) / 2, elements: n * perChannel, outChannels: n, inChannels, kh, kw },
    dispatch: workgroupGrid(Math.ceil(words / UNPACK_WORKGROUP)),
  }) as tf.Tensor4D;
}

/**
 * Output-channel windows [first, count) over which `conv2dPacked` unpacks a filter: one window
 * when its fp32 filter fits `maxBytes`, else equal windows under it (whole words each).
 */
export function filterWindows(shape: number[], maxBytes = MAX_UNPACKED_FILTER_BYTES): [number, number][] {
  const [out, inChannels, kh, kw] = shape;
  const perChannel = inChannels * kh * kw;
  const bytes = out * perChannel * 4;
  if (bytes <= maxBytes || perChannel % 2 !== 0) return [[0, out]];
  const windows = Math.ceil(bytes / maxBytes);
  const size = Math.ceil(out / windows);
  const result: [number, number][] = [];
  for (let first = 0; first < out; first += size) result.push([first, Math.min(size, out - first)]);
  return result;
}

/**
 * The largest fp32 filter `conv2dPacked` unpacks at once: bigger ones (SD 1.5's 2560→1280 3×3,
 * 118 MB) run as several convs over output-channel windows, their outputs concatenated.
 */
export const MAX_UNPACKED_FILTER_BYTES = 16 * 2 ** 20;

/**
 * fp32 filters from this size up (and every windowed one) are submitted and freed right after
 * their conv; smaller ones wait for tfjs's batch (SD 1.5's 3×3 filters are 3.7 MB and up, the
 * tiny and built-in models' under 1 MB).
 */
export const SUBMIT_FILTER_BYTES = 2 ** 20;

/** Whether `conv2dPacked` submits after each unpacked filter of a weight `shape` in `windows`. */
function submitsEachFilter(shape: number[], windows: [number, number][]): boolean {
  const [out, inChannels, kh, kw] = shape;
  return windows.length > 1 || out * inChannels * kh * kw * 4 >= SUBMIT_FILTER_BYTES;
}

// ---------------------------------------------------------------------------------------------
// Linear

/** Workgroup WG_X x WG_Y; each invocation owns ROWS rows x 4 columns (vec4); K-slices of TILE_K. */
interface MatmulTiles {
  wgX: number;
  wgY: number;
  rows: number;
  tileK: number;
}

// Measured on lavapipe: 128x32 tiles with K-slices of 16 for long inputs;
// short inputs (77 text tokens) take 32-row tiles so that more workgroups share the work.
function matmulTiles(m: number): MatmulTiles {
  return { wgX: 8, wgY: 8, rows: m >= 1024 ? 16 : 4, tileK: 16 };
}

const matmulDefs = new Map<string, KernelDef>();

function matmulDef(t: MatmulTiles): KernelDef {
  const key = `${t.wgX}x${t.wgY}`;
  let def = matmulDefs.get(key);
  if (!def) {
    def = {
      name: 'packed_matmul',
      source: matmulSource,
      inputs: ['a', 'w', 'bias'],
      uniforms: [['m', 'i32'], ['inner', 'i32'], ['cols', 'i32']],
      workgroupSize: [t.wgX, t.wgY, 1],
    };
    matmulDefs.set(key, def);
  }
  return def;
}

/** a [m, inner] · B [inner, cols] (+ bias) with B from packed W; see packed_matmul.wgsl. */
function packedMatmul(a: tf.Tensor2D, w: PackedWeight, transposeB: boolean, bias: tf.Tensor | undefined): tf.Tensor2D {
  const [m, inner] = a.shape;
  const cols = transposeB ? w.shape[0] : w.shape[1];
  const t = matmulTiles(m);
  const tileM = t.wgY * t.rows;
  const tileN = t.wgX * 4;
  return runKernel(matmulDef(t), {
    // Without a bias, `bias` binds `a` and is never read.
    inputs: [a, w.data, bias ?? a],
    outputShape: [m, cols],
    uniforms: { m, inner, cols },
    constants: {
      WG_X: { type: 'i32', value: t.wgX },
      WG_Y: { type: 'i32', value: t.wgY },
      ROWS: { type: 'i32', value: t.rows },
      TILE_M: { type: 'i32', value: tileM },
      TILE_K: { type: 'i32', value: t.tileK },
      TILE_K4: { type: 'i32', value: t.tileK / 4 },
      TRANSPOSE_B: { type: 'bool', value: transposeB },
      HAS_BIAS: { type: 'bool', value: bias !== undefined },
    },
    dispatch: [Math.ceil(cols / tileN), Math.ceil(m / tileM), 1],
  }) as tf.Tensor2D;
}

/**
 * y = x·Wᵀ + b for W [out, in] packed (nn.Linear), x [..., in] -> y [..., out]. Differentiable
 * in x; W and `bias` [out] are frozen (no gradients flow to them).
 */
export function linearPacked(x: tf.Tensor, w: PackedWeight, bias?: tf.Tensor): tf.Tensor {
  if (w.shape.length !== 2) throw new Error(`linearPacked: weight shape [${w.shape}] is not [out, in].`);
  const [out, inFeatures] = w.shape;
  if (x.shape[x.rank - 1] !== inFeatures) throw new Error(`linearPacked: x [${x.shape}] does not end in ${inFeatures}.`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== out)) throw new Error(`linearPacked: bias [${bias.shape}] is not [${out}].`);
  const outShape = [...x.shape.slice(0, -1), out];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor;
    const y = tf.tidy(() => tf.reshape(packedMatmul(tf.reshape(xIn, [-1, inFeatures]) as tf.Tensor2D, w, true, bias), outShape));
    return {
      value: y,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => tf.reshape(packedMatmul(tf.reshape(dy, [-1, out]) as tf.Tensor2D, w, false, undefined), xIn.shape)),
    };
  });
  return op(x);
}

// ---------------------------------------------------------------------------------------------
// Conv2d

export interface Conv2dOptions {
  stride?: number | [number, number];
  /**
   * 'same', 'valid', symmetric padding (PyTorch's `padding=`: n or [padH, padW]), or explicit
   * [[top, bottom], [left, right]] (the VAE downsampler's F.pad(0, 1, 0, 1)).
   */
  pad?: 'same' | 'valid' | number | [number, number] | [[number, number], [number, number]];
  /** The largest fp32 filter unpacked at once (default MAX_UNPACKED_FILTER_BYTES). */
  maxFilterBytes?: number;
}

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/** Padding as tfjs' NHWC explicit padding. */
function explicitPadding(pad: number | [number, number] | [[number, number], [number, number]]): ExplicitPadding {
  if (typeof pad === 'number') return [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  const [h, w] = pad;
  return [[0, 0], typeof h === 'number' ? [h, h] : h, typeof w === 'number' ? [w, w] : w, [0, 0]] as ExplicitPadding;
}

/**
 * tf.conv2d on x [batch, h, w, in] (NHWC) with a packed PyTorch weight [out, in, kh, kw] and an
 * optional frozen bias [out]. The fp32 filter exists only inside this call (and inside its
 * backward). Differentiable in x.
 */
export function conv2dPacked(x: tf.Tensor4D, w: PackedWeight, bias?: tf.Tensor, options: Conv2dOptions = {}): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const pad = options.pad ?? 0;
  const tfPad = typeof pad === 'string' ? pad : explicitPadding(pad);
  const windows = filterWindows(w.shape, options.maxFilterBytes);
  const submit = submitsEachFilter(w.shape, windows);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const y = tf.tidy(() => {
      const parts = windows.map(([first, count]) => {
        const filter = unpackConvFilter(w, first, count);
        const part = tf.conv2d(input, filter, stride, tfPad);
        disposeUnpooled(filter, submit);
        return part;
      });
      const convolved = parts.length === 1 ? parts[0] : tf.concat(parts, 3);
      return bias ? tf.add(convolved, bias) : convolved;
    });
    return {
      value: y,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          let dx: tf.Tensor4D | null = null;
          for (const [first, count] of windows) {
            const filter = unpackConvFilter(w, first, count);
            const window = windows.length === 1 ? (dy as tf.Tensor4D) : tf.slice(dy as tf.Tensor4D, [0, 0, 0, first], [-1, -1, -1, count]);
            const part = tf.conv2dTranspose(window, filter, input.shape, stride, tfPad);
            disposeUnpooled(filter, submit);
            if (window !== dy) window.dispose();
            if (dx) {
              const sum: tf.Tensor4D = tf.add(dx, part);
              tf.dispose([dx, part]);
              dx = sum;
            } else dx = part;
          }
          return dx!;
        }),
    };
  });
  return op(x) as tf.Tensor4D;
}
