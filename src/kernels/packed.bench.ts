import * as tf from '../gpu/tf';
import type { Benchmark } from './benchmark';
import { conv2dPacked, linearPacked, packF16, unpackConvFilter } from './packed';
import { randomNormal } from '../common/random';

/** x [m, in] and an nn.Linear weight W [out, in], as fp32 and as packed f16. */
function linearOperands(m: number, inFeatures: number, out: number) {
  const wValues = randomNormal(out * inFeatures, 1, 0.05);
  const x = tf.tensor2d(randomNormal(m * inFeatures, 2), [m, inFeatures]);
  const w32 = tf.tensor2d(wValues, [out, inFeatures]);
  const packed = packF16(wValues, [out, inFeatures]);
  const dispose = () => {
    tf.dispose([x, w32]);
    packed.dispose();
  };
  return { x, w32, packed, dispose };
}

/** y = x·Wᵀ at nn.Linear [out, in]: packed f16 W vs fp32 W through tf.matMul(x, W, false, true). */
function linear(name: string, m: number, inFeatures: number, out: number): Benchmark {
  return {
    name,
    setup: () => {
      const { x, w32, packed, dispose } = linearOperands(m, inFeatures, out);
      return {
        ours: () => linearPacked(x, packed),
        baseline: () => tf.matMul(x, w32, false, true),
        flops: 2 * m * inFeatures * out,
        dispose,
      };
    },
  };
}

/** Forward + backward (dx under a fixed dy) of y = x·Wᵀ: packed vs fp32 tf.matMul. */
function linearForwardBackward(name: string, m: number, inFeatures: number, out: number): Benchmark {
  return {
    name,
    setup: () => {
      const { x, w32, packed, dispose } = linearOperands(m, inFeatures, out);
      const dy = tf.tensor2d(randomNormal(m * out, 3), [m, out]);
      return {
        ours: () => tf.valueAndGrad((t: tf.Tensor) => linearPacked(t, packed))(x, dy),
        baseline: () => tf.valueAndGrad((t: tf.Tensor) => tf.matMul(t, w32, false, true))(x, dy),
        flops: 4 * m * inFeatures * out,
        dispose: () => {
          dispose();
          dy.dispose();
        },
      };
    },
  };
}

/** 3x3 'same' conv, NHWC: packed weight unpacked per call (conv2dPacked) vs a resident fp32 filter. */
function conv(name: string, size: number, inChannels: number, out: number): Benchmark {
  return {
    name,
    setup: () => {
      const wValues = randomNormal(out * inChannels * 9, 1, 0.02);
      const x = tf.tensor4d(randomNormal(size * size * inChannels, 2), [1, size, size, inChannels]);
      const packed = packF16(wValues, [out, inChannels, 3, 3]);
      const filter = unpackConvFilter(packed);
      return {
        ours: () => conv2dPacked(x, packed, undefined, { pad: 1 }),
        baseline: () => tf.conv2d(x, filter, 1, 'same'),
        flops: 2 * size * size * out * inChannels * 9,
        dispose: () => {
          tf.dispose([x, filter]);
          packed.dispose();
        },
      };
    },
  };
}

/** The unpack alone: packed [out, in, 3, 3] -> fp32 [3, 3, in, out] vs tf.transpose of an fp32 OIHW weight. */
function unpack(name: string, inChannels: number, out: number): Benchmark {
  return {
    name,
    setup: () => {
      const wValues = randomNormal(out * inChannels * 9, 1, 0.02);
      const packed = packF16(wValues, [out, inChannels, 3, 3]);
      const w32 = tf.tensor4d(wValues, [out, inChannels, 3, 3]);
      return {
        ours: () => unpackConvFilter(packed),
        baseline: () => tf.transpose(w32, [2, 3, 1, 0]),
        dispose: () => {
          w32.dispose();
          packed.dispose();
        },
      };
    },
  };
}

// SD1.5 at 512x512: attention projections at 64x64 (4096 tokens, 320 channels), the GEGLU input
// projection's quarter (320 -> 1280), the text cross-attention K/V (77 x 768 -> 320), and a
// ResNet 3x3 conv at 32x32x320.
export const benchmarks: Benchmark[] = [
  linear('packed/linear-4096x320x320', 4096, 320, 320),
  linear('packed/linear-4096x320x1280', 4096, 320, 1280),
  linear('packed/linear-77x768x320', 77, 768, 320),
  linearForwardBackward('packed/linear-fwd-bwd-4096x320x320', 4096, 320, 320),
  conv('packed/conv3x3-32x32x320', 32, 320, 320),
  unpack('packed/unpack-hwio-320x320x3x3', 320, 320),
];
