import * as tf from '../gpu/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2dPacked, f16Bits, f16Value, filterWindows, linearPacked, packF16, unpackConvFilter, unpackF16, type PackedWeight } from './packed';
import { expectMatchesReference, expectNoLeaks, randomInput } from '../test/compare';
import { randomNormal } from '../common/random';
import { measureGpuMemory } from '../gpu/memory';

const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

// [f32 input, expected f16 bits]: specials, subnormals, overflow and every kind of rounding tie.
const F16_TABLE: Array<[number, number]> = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.1, 0x2e66],
  [1 / 3, 0x3555],
  [65504, 0x7bff], // largest finite
  [65519, 0x7bff], // below the halfway point to 65536
  [65520, 0x7c00], // halfway to 65536: ties to even, which is inf
  [1e6, 0x7c00],
  [Infinity, 0x7c00],
  [-Infinity, 0xfc00],
  [NaN, 0x7e00],
  [2 ** -14, 0x0400], // smallest normal
  [1023 * 2 ** -24, 0x03ff], // largest subnormal
  [2 ** -24, 0x0001], // smallest subnormal
  [-(2 ** -24), 0x8001],
  [2 ** -25, 0x0000], // tie between 0 and 2^-24: even is 0
  [1.5 * 2 ** -25, 0x0001],
  [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units: even is 2
  [1023.5 * 2 ** -24, 0x0400], // subnormal tie that carries into the exponent
  [1e-8, 0x0000],
  [-1e-8, 0x8000],
  [1 + 2 ** -11, 0x3c00], // tie: even mantissa 0
  [1 + 3 * 2 ** -11, 0x3c02], // tie: even mantissa 2
  [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
  [2 - 2 ** -12, 0x4000], // rounding carries into the exponent
];

describe('f16 packing', () => {
  it('converts f32 to f16 bits with round-to-nearest-even (known table)', () => {
    for (const [value, bits] of F16_TABLE) expect(f16Bits(value), `f16Bits(${value})`).toBe(bits);
  });

  it('round-trips the table bit-exactly through the GPU unpack', async () => {
    const values = new Float32Array(F16_TABLE.map(([v]) => v));
    const expected = new Float32Array(F16_TABLE.map(([, bits]) => f16Value(bits)));
    const w = packF16(values, [values.length]); // 27 values: odd count
    const out = await expectNoLeaks(async () => {
      const t = unpackF16(w);
      const data = (await t.data()) as Float32Array;
      t.dispose();
      return data;
    });
    w.dispose();
    const nan = F16_TABLE.findIndex(([v]) => Number.isNaN(v));
    expect(Number.isNaN(out[nan])).toBe(true);
    out[nan] = expected[nan] = 0;
    expect(bitsOf(out)).toEqual(bitsOf(expected));
  });

  it('unpacks every one of the 65536 f16 bit patterns exactly (raw bits in)', async () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const w = packF16(all, [256, 256]);
    const t = unpackF16(w);
    const out = (await t.data()) as Float32Array;
    tf.dispose([t]);
    w.dispose();
    const expected = new Float32Array(65536).map((_, i) => f16Value(i));
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(expected[i])) expect(Number.isNaN(out[i]), `bits ${i.toString(16)}`).toBe(true);
      else if (!Object.is(out[i], expected[i])) expect(out[i], `bits 0x${i.toString(16)}`).toBe(expected[i]);
    }
    // And f32 -> f16 inverts the decoding for every non-NaN pattern.
    for (let i = 0; i < 65536; i++) if (!Number.isNaN(expected[i]) && f16Bits(expected[i]) !== i) expect(f16Bits(expected[i])).toBe(i);
  });

  it('stores half the bytes of fp32 (int32 words of two halves)', () => {
    for (const shape of [[320, 320], [7, 5], [1]]) {
      const n = tf.util.sizeFromShape(shape);
      const w = packF16(new Float32Array(n), shape);
      expect(w.data.dtype).toBe('int32');
      expect(w.data.size).toBe(Math.ceil(n / 2));
      expect(w.data.size * 4).toBe(2 * (n + (n % 2)));
      w.dispose();
    }
  });
});

/** Values exactly representable in f16, so that CPU references see the same weights. */
function f16Rounded(n: number, seed: number, scale: number): Float32Array {
  return randomNormal(n, seed, scale).map((v) => f16Value(f16Bits(v)));
}

describe('linearPacked kernel', () => {
  // [x shape, out, bias]: in and out not multiples of the 32-wide tiles, odd weight counts.
  type Case = [xShape: number[], out: number, bias: boolean];
  const cases: Case[] = [
    [[7, 37], 19, false],
    [[2, 5, 67], 33, true],
    [[210, 130], 70, true],
    [[1, 77, 96], 65, true],
    [[1100, 45], 37, true], // the long-input tiles
  ];
  it.each(cases)('matches x·Wᵀ+b on the CPU, values and dx: x %j, out %i, bias %s', async (xShape, out, withBias) => {
    const inFeatures = xShape[xShape.length - 1];
    const w32 = f16Rounded(out * inFeatures, 3, 1 / Math.sqrt(inFeatures));
    const b32 = randomNormal(out, 4);
    const packed = packF16(w32, [out, inFeatures]);
    const bias = withBias ? tf.tensor1d(b32) : undefined;
    try {
      await expectMatchesReference({
        inputs: [randomInput(xShape, 5)],
        ours: (x) => linearPacked(x, packed, bias),
        reference: (x) => {
          const y = tf.matMul(tf.reshape(x, [-1, inFeatures]), tf.tensor2d(w32, [out, inFeatures]), false, true);
          return tf.reshape(withBias ? tf.add(y, tf.tensor1d(b32)) : y, [...xShape.slice(0, -1), out]);
        },
        rtol: 1e-4,
      });
    } finally {
      packed.dispose();
      bias?.dispose();
    }
  });

  it('rejects a mismatched input', () => {
    const packed = packF16(new Float32Array(12), [3, 4]);
    expect(() => linearPacked(tf.zeros([2, 5]), packed)).toThrow(/does not end in 4/);
    packed.dispose();
  });
});

describe('conv2dPacked', () => {
  it('unpacks [out, in, kh, kw] into the tfjs filter layout [kh, kw, in, out]', async () => {
    const shape = [5, 3, 3, 2];
    const w32 = f16Rounded(tf.util.sizeFromShape(shape), 8, 1);
    const packed = packF16(w32, shape);
    const filter = unpackConvFilter(packed);
    const expected = tf.transpose(tf.tensor4d(w32, shape as [number, number, number, number]), [2, 3, 1, 0]);
    expect(filter.shape).toEqual([3, 2, 3, 5]);
    expect(Array.from(await filter.data())).toEqual(Array.from(await expected.data()));
    tf.dispose([filter, expected]);
    packed.dispose();
  });

  it('unpacks a window of output channels as that slice of the whole filter', async () => {
    const shape = [7, 4, 3, 3];
    const packed = packF16(f16Rounded(tf.util.sizeFromShape(shape), 12, 1), shape);
    const whole = unpackConvFilter(packed);
    const window = unpackConvFilter(packed, 2, 3);
    const expected = tf.slice(whole, [0, 0, 0, 2], [-1, -1, -1, 3]);
    expect(window.shape).toEqual([3, 3, 4, 3]);
    expect(Array.from(await window.data())).toEqual(Array.from(await expected.data()));
    expect(() => unpackConvFilter(packF16(new Float32Array(5 * 3 * 3), [5, 1, 3, 3]), 1, 2)).toThrow(/whole-word window/); // 9 elements per channel
    tf.dispose([whole, window, expected]);
    packed.dispose();
  });

  it('splits a filter over its byte limit into equal output-channel windows', () => {
    expect(filterWindows([1280, 2560, 3, 3])).toEqual(Array.from({ length: 8 }, (_, i) => [i * 160, 160])); // 118 MB → 8 × 14.7 MB
    expect(filterWindows([320, 320, 3, 3])).toEqual([[0, 320]]);
    expect(filterWindows([6, 4, 3, 3], 4 * 36 * 2)).toEqual([[0, 2], [2, 2], [4, 2]]);
    expect(filterWindows([5, 4, 3, 3], 4 * 36 * 2)).toEqual([[0, 2], [2, 2], [4, 1]]);
    expect(filterWindows([6, 1, 3, 3], 8)).toEqual([[0, 6]]); // odd channel size: not windowed
  });

  type Pad = number | 'same' | 'valid' | [[number, number], [number, number]];
  type Case = [xShape: number[], out: number, k: number, stride: number, pad: Pad, bias: boolean, maxFilterBytes?: number];
  const cases: Case[] = [
    [[2, 9, 7, 5], 6, 3, 1, 1, true],
    [[1, 11, 10, 7], 9, 3, 2, 1, false],
    [[2, 6, 5, 13], 11, 1, 1, 0, true],
    [[1, 8, 9, 4], 3, 3, 1, 'same', true],
    [[1, 8, 7, 6], 5, 3, 2, [[0, 1], [0, 1]], true], // the VAE downsampler's asymmetric pad
    [[2, 9, 7, 6], 7, 3, 1, 1, true, 6 * 9 * 4 * 3], // in output-channel windows of 3, 3 and 1
    [[1, 8, 9, 4], 5, 3, 2, 'same', false, 4 * 9 * 4 * 2],
  ];
  const title = 'matches tf.conv2d on the CPU, values and dx: x %j, out %i, k %i, stride %i, pad %s, bias %s, filter bytes at most %s';
  it.each(cases)(title, async (xShape, out, k, stride, pad, withBias, maxFilterBytes) => {
    const inChannels = xShape[3];
    const wShape = [out, inChannels, k, k] as [number, number, number, number];
    const w32 = f16Rounded(tf.util.sizeFromShape(wShape), 9, 0.3);
    const b32 = randomNormal(out, 10);
    const packed = packF16(w32, wShape);
    const bias = withBias ? tf.tensor1d(b32) : undefined;
    type Explicit = [[number, number], [number, number], [number, number], [number, number]];
    const tfPad =
      typeof pad === 'number' ? ([[0, 0], [pad, pad], [pad, pad], [0, 0]] as Explicit) : typeof pad === 'string' ? pad : ([[0, 0], pad[0], pad[1], [0, 0]] as Explicit);
    try {
      await expectMatchesReference({
        inputs: [randomInput(xShape, 11)],
        ours: (x) => conv2dPacked(x as tf.Tensor4D, packed, bias, { stride, pad, maxFilterBytes }),
        reference: (x) => {
          const filter = tf.transpose(tf.tensor4d(w32, wShape), [2, 3, 1, 0]) as tf.Tensor4D;
          const y = tf.conv2d(x as tf.Tensor4D, filter, stride, tfPad);
          return withBias ? tf.add(y, tf.tensor1d(b32)) : y;
        },
        rtol: 1e-4,
      });
    } finally {
      packed.dispose();
      bias?.dispose();
    }
  });
});

describe("conv2dPacked's transient filter", () => {
  it('goes back to the device, not into the buffer pool, forward and backward', async () => {
    const { webgpuBackend, flushGpu } = await import('../gpu/tf-backend');
    const { gpuAllocation, resetHighWater } = await import('../gpu/memory');
    const filterBytes = 37 * 29 * 3 * 3 * 4; // a size nothing else here has
    const pooled = () => {
      const pool = (webgpuBackend() as unknown as { bufferManager: { freeBuffers: Map<string, GPUBuffer[]> } }).bufferManager;
      return [...pool.freeBuffers.values()].flat().filter((b) => b.size === filterBytes).length;
    };
    const w = packF16(randomNormal(37 * 29 * 9, 4), [37, 29, 3, 3]);
    const x = tf.tensor4d(randomNormal(1 * 6 * 6 * 29, 5), [1, 6, 6, 29]);
    resetHighWater();
    const before = gpuAllocation().allocated;
    const g = tf.grad((t: tf.Tensor) => tf.sum(conv2dPacked(t as tf.Tensor4D, w, undefined, { pad: 1 })))(x);
    await g.data();
    await flushGpu();
    expect(pooled()).toBe(0);
    // The high-water mark saw the filter while it lived.
    expect(gpuAllocation().highWater - before).toBeGreaterThanOrEqual(filterBytes);
    tf.dispose([g, x]);
    w.dispose();
  });
});

describe("conv2dPacked's submits", () => {
  it('submits after a filter of 1 MiB and more, and leaves smaller ones to tfjs batch', async () => {
    const { webgpuBackend, flushGpu } = await import('../gpu/tf-backend');
    const backend = webgpuBackend() as unknown as { submitQueue(): void };
    const submitsOver = async (out: number, inChannels: number) => {
      const w = packF16(randomNormal(out * inChannels * 9, 8), [out, inChannels, 3, 3]);
      const x = tf.tensor4d(randomNormal(2 * 2 * inChannels, 9), [1, 2, 2, inChannels]);
      await flushGpu(); // tfjs's dispatch count starts from zero
      const submit = backend.submitQueue;
      let submits = 0;
      backend.submitQueue = function (this: unknown) {
        submits++;
        submit.call(this);
      };
      try {
        conv2dPacked(x, w, undefined, { pad: 1 }).dispose();
      } finally {
        backend.submitQueue = submit;
      }
      x.dispose();
      w.dispose();
      return submits;
    };
    expect(await submitsOver(16, 16)).toBe(0); // 9 KB
    expect(await submitsOver(128, 256)).toBe(1); // 1.2 MB
  });
});

describe("conv2dPacked's output-channel windows", () => {
  it('hold no more than one window of fp32 filter at a time, forward and backward', async () => {
    const { flushGpu } = await import('../gpu/tf-backend');
    const { gpuAllocation, resetHighWater, trimBufferPool } = await import('../gpu/memory');
    const filterBytes = 64 * 64 * 9 * 4; // 147 KB, against 1 KB activations
    const w = packF16(randomNormal(64 * 64 * 9, 6), [64, 64, 3, 3]);
    const x = tf.tensor4d(randomNormal(2 * 2 * 64, 7), [1, 2, 2, 64]);
    const inUsePeak = async (maxFilterBytes?: number) => {
      await flushGpu();
      trimBufferPool();
      resetHighWater();
      const before = gpuAllocation().allocated;
      const g = tf.grad((t: tf.Tensor) => tf.sum(conv2dPacked(t as tf.Tensor4D, w, undefined, { pad: 1, maxFilterBytes })))(x);
      await g.data();
      g.dispose();
      return gpuAllocation().usedHighWater - before;
    };
    await inUsePeak(); // uploads w and x
    expect(await inUsePeak()).toBeGreaterThanOrEqual(filterBytes);
    const windowed = await inUsePeak(filterBytes / 4); // windows of 16 channels
    expect(windowed).toBeGreaterThanOrEqual(filterBytes / 4);
    expect(windowed).toBeLessThan(filterBytes / 2);
    x.dispose();
    w.dispose();
  });
});

describe('packed weights keep no fp32 copy', () => {
  let conv: PackedWeight;
  let linear: PackedWeight;
  beforeAll(() => {
    conv = packF16(randomNormal(16 * 8 * 9, 1), [16, 8, 3, 3]);
    linear = packF16(randomNormal(24 * 8, 2), [24, 8]);
  });
  afterAll(() => {
    conv.dispose();
    linear.dispose();
  });

  it('leaves only the output after a call, with and without gradients', async () => {
    const x = tf.tensor4d(randomNormal(2 * 5 * 5 * 8, 3), [2, 5, 5, 8]);
    const ops = [(t: tf.Tensor) => conv2dPacked(t as tf.Tensor4D, conv, undefined, { pad: 1 }), (t: tf.Tensor) => linearPacked(t, linear)];
    for (const f of ops) {
      const before = tf.memory();
      const y = f(x);
      await y.data();
      expect(tf.memory().numTensors).toBe(before.numTensors + 1);
      expect(tf.memory().numBytes).toBe(before.numBytes + y.size * 4);
      y.dispose();
      const g = tf.grad((t: tf.Tensor) => f(t))(x);
      await g.data();
      expect(tf.memory().numTensors).toBe(before.numTensors + 1);
      expect(tf.memory().numBytes).toBe(before.numBytes + x.size * 4);
      g.dispose();
    }
    x.dispose();
  });

  it('linearPacked never materializes an fp32 weight (GPU pool growth over a call)', async () => {
    const w = packF16(randomNormal(320 * 320, 4), [320, 320]);
    const x = tf.tensor2d(randomNormal(4 * 320, 5), [4, 320]);
    linearPacked(x, w).dispose(); // uploads x and the packed weight
    const { result, peakBytes } = await measureGpuMemory(() => linearPacked(x, w));
    result.dispose();
    expect(peakBytes).toBeLessThan(4 * 320 * 4 + 4096); // the output and uniforms; an fp32 W would be 409600
    tf.dispose([x]);
    w.dispose();
  });
});
