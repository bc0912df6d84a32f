import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import type { TensorSource } from './tensor-source';
import { Weights, type WeightPrecision } from './weights';

const [IN, OUT, R, SCALE] = [3, 5, 2, 0.7];

/** An in-memory F32 source of PyTorch-layout tensors. */
function source(tensors: Record<string, { shape: number[]; data: Float32Array }>): TensorSource {
  return {
    names: () => Object.keys(tensors),
    info: (name) => ({ dtype: 'F32', shape: tensors[name].shape }),
    read: async (name) => tensors[name].data,
  };
}

function load(weight: Float32Array, shape: number[], bias: Float32Array | null, precision: WeightPrecision = 'f32'): Promise<Weights> {
  return Weights.load('unet', source({ 'c.weight': { shape, data: weight }, ...(bias && { 'c.bias': { shape: [OUT], data: bias } }) }), { precision });
}

/** ΔW[o, i, a, b] = SCALE · Σ_r up[o, r] · down[r, i, a, b] (PyTorch layouts). */
function deltaWeight(down: Float32Array, up: Float32Array, k: number): Float32Array {
  const per = IN * k * k;
  const out = new Float32Array(OUT * per);
  for (let o = 0; o < OUT; o++) for (let r = 0; r < R; r++) for (let j = 0; j < per; j++) out[o * per + j] += SCALE * up[o * R + r] * down[r * per + j];
  return out;
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

type Pad = number | [[number, number], [number, number]];
const CASES: { name: string; k: number; stride: number; pad: Pad }[] = [
  { name: '1×1', k: 1, stride: 1, pad: 0 },
  { name: '3×3, stride 1, pad 1', k: 3, stride: 1, pad: 1 },
  { name: '3×3, stride 2, pad 1', k: 3, stride: 2, pad: 1 },
  { name: '3×3, stride 2, pad [[0, 1], [0, 1]] (a downsampler without padding)', k: 3, stride: 2, pad: [[0, 1], [0, 1]] },
];

describe('Weights: low-rank adapters on convolutions', () => {
  for (const { name, k, stride, pad } of CASES) {
    it(`${name}: base + scale·up(conv(x, down)) equals the conv with W + scale·ΔW, fp32 and packed f16`, async () => {
      const shape = [OUT, IN, k, k];
      const weight = randomNormal(OUT * IN * k * k, 1, 0.5);
      const bias = randomNormal(OUT, 2, 0.5);
      const downTorch = randomNormal(R * IN * k * k, 3, 0.5);
      const up = randomNormal(OUT * R, 4, 0.5);
      const delta = deltaWeight(downTorch, up, k);
      const x = tf.tensor4d(randomNormal(7 * 7 * IN, 5), [1, 7, 7, IN]);
      // [r, in, kh, kw] → [kh, kw, in, r], the layout conv adapters hold.
      const down = tf.tidy(() => tf.transpose(tf.tensor4d(downTorch, [R, IN, k, k]), [2, 3, 1, 0]) as tf.Tensor4D);
      const upT = tf.tensor2d(up, [OUT, R]);
      const conv = (w: Weights) => w.conv2d('c', x, OUT, k, { stride, pad });

      // fp32: against one conv with the merged weight.
      const fp32 = await load(weight, shape, bias);
      const merged = await load(weight.map((v, i) => v + delta[i]), shape, bias);
      const before = tf.memory().numTensors;
      const base = conv(fp32);
      fp32.setAdapter('c', { down, up: upT, scale: SCALE });
      const [got, want] = [conv(fp32), conv(merged)];
      const fp32Diff = await maxAbsDiff(got, want);
      expect(await maxAbsDiff(got, base)).toBeGreaterThan(0.1); // the adapter matters
      expect(fp32Diff).toBeLessThanOrEqual(1e-5);
      fp32.setAdapter('c', null);
      const detached = conv(fp32);
      expect(await detached.data()).toEqual(await base.data()); // bit-identical
      tf.dispose([base, got, want, detached]);
      expect(tf.memory().numTensors).toBe(before);

      // packed f16 base: against the packed base plus the fp32 delta conv (no bias) computed apart.
      const packed = await load(weight, shape, bias, 'f16');
      const deltaOnly = await load(delta, shape, null);
      const packedBase = conv(packed);
      packed.setAdapter('c', { down, up: upT, scale: SCALE });
      const gotPacked = conv(packed);
      const wantPacked = tf.tidy(() => tf.add(packedBase, conv(deltaOnly)));
      const packedDiff = await maxAbsDiff(gotPacked, wantPacked);
      expect(packedDiff).toBeLessThanOrEqual(1e-5);
      packed.setAdapter('c', null);
      const packedDetached = conv(packed);
      expect(await packedDetached.data()).toEqual(await packedBase.data());
      tf.dispose([packedBase, gotPacked, wantPacked, packedDetached]);
      console.log(`conv adapter ${name}: max |Δ| fp32 ${fp32Diff.toExponential(2)}, packed ${packedDiff.toExponential(2)}`);

      [fp32, merged, packed, deltaOnly].forEach((w) => w.dispose());
      tf.dispose([x, down, upT]);
    });
  }

  it('trains: gradients reach a conv adapter on a packed base, named by trainableAdapterTensors', async () => {
    const w = await load(randomNormal(OUT * IN * 9, 1, 0.5), [OUT, IN, 3, 3], null, 'f16');
    const down = tf.variable(tf.tensor4d(randomNormal(9 * IN * R, 2, 0.5), [3, 3, IN, R]));
    const up = tf.variable(tf.tensor2d(randomNormal(OUT * R, 3, 0.5), [OUT, R]));
    w.setAdapter('c', { down, up, scale: SCALE });
    expect(w.trainableAdapterTensors('c')).toEqual([down, up]);
    const x = tf.tensor4d(randomNormal(6 * 6 * IN, 4), [1, 6, 6, IN]);
    const { value, grads } = tf.variableGrads(() => tf.sum(w.conv2d('c', x, OUT, 3, { stride: 2, pad: 1 })) as tf.Scalar, [down, up]);
    expect(grads[down.name].shape).toEqual([3, 3, IN, R]);
    expect(tf.util.sizeFromShape(grads[up.name].shape)).toBe(OUT * R);
    expect(Math.max(...(await tf.abs(grads[down.name]).data()))).toBeGreaterThan(0);
    tf.dispose([value, x, down, up, ...Object.values(grads)]);
    w.dispose();
  });

  it('refuses an adapter whose shapes do not fit the layer, naming it and the shapes', async () => {
    const conv = await load(randomNormal(OUT * IN * 9, 1), [OUT, IN, 3, 3], null);
    const linear = await Weights.load('text_encoder', source({ 'l.weight': { shape: [OUT, IN], data: randomNormal(OUT * IN, 2) } }));
    const up = tf.zeros([OUT, R]) as tf.Tensor2D;
    const bad: [Weights, string, tf.Tensor2D | tf.Tensor4D, tf.Tensor2D][] = [
      [conv, 'c', tf.zeros([1, 1, IN, R]) as tf.Tensor4D, up], // 1×1 down on a 3×3 conv
      [conv, 'c', tf.zeros([3, 3, IN + 1, R]) as tf.Tensor4D, up], // in channels
      [conv, 'c', tf.zeros([R, IN]) as tf.Tensor2D, up], // a linear's down
      [conv, 'c', tf.zeros([3, 3, IN, R]) as tf.Tensor4D, tf.zeros([OUT + 1, R]) as tf.Tensor2D], // out channels
      [conv, 'c', tf.zeros([3, 3, IN, R + 1]) as tf.Tensor4D, up], // ranks differ
      [linear, 'l', tf.zeros([1, 1, IN, R]) as tf.Tensor4D, up], // a conv's down on a linear
      [linear, 'l', tf.zeros([R, IN + 1]) as tf.Tensor2D, up],
    ];
    for (const [w, prefix, down, u] of bad) {
      expect(() => w.setAdapter(prefix, { down, up: u, scale: 1 })).toThrow(new RegExp(`does not fit '${prefix}' \\(weight \\[${w.shape(`${prefix}.weight`)}\\]\\)`));
      expect(w.adapterPrefixes()).toEqual([]);
    }
    expect(() => conv.setAdapter('nothing', { down: bad[0][2], up, scale: 1 })).toThrow(/no layer 'nothing'/);
    const good = tf.zeros([3, 3, IN, R]) as tf.Tensor4D;
    conv.setAdapter('c', { down: good, up, scale: 1 });
    expect(conv.adapterPrefixes()).toEqual(['c']);
    tf.dispose([up, good, ...bad.flatMap(([, , d, u]) => [d, u])]);
    conv.dispose();
    linear.dispose();
  });
});
