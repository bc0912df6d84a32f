/**
 * Building blocks shared by the UNet and the VAE, in NHWC (tfjs' convolution layout), each a
 * function of (weights, checkpoint prefix, input) mirroring the diffusers module of that name.
 */
import * as tf from '../gpu/tf';
import { attention } from '../kernels/attention';
import { groupNorm as groupNormKernel } from '../kernels/group-norm';
import type { Weights } from './weights';

export function groupNorm(w: Weights, prefix: string, x: tf.Tensor, groups: number, eps: number, silu = false): tf.Tensor {
  const c = x.shape[x.rank - 1];
  return groupNormKernel(x, w.tensor(`${prefix}.weight`, [c]), w.tensor(`${prefix}.bias`, [c]), { groups, eps, silu });
}

/** diffusers ResnetBlock2D (time_embedding_norm 'default', output_scale_factor 1). */
export function resnetBlock(
  w: Weights,
  prefix: string,
  x: tf.Tensor4D,
  outChannels: number,
  temb: tf.Tensor2D | null,
  groups: number,
  eps: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    let h = groupNorm(w, `${prefix}.norm1`, x, groups, eps, true) as tf.Tensor4D;
    h = w.conv2d(`${prefix}.conv1`, h, outChannels, 3);
    if (temb) {
      const t = w.linear(`${prefix}.time_emb_proj`, tf.mul(tf.sigmoid(temb), temb), outChannels);
      h = tf.add(h, t.reshape([t.shape[0], 1, 1, outChannels]));
    }
    h = groupNorm(w, `${prefix}.norm2`, h, groups, eps, true) as tf.Tensor4D;
    h = w.conv2d(`${prefix}.conv2`, h, outChannels, 3);
    const shortcut = x.shape[3] === outChannels ? x : w.conv2d(`${prefix}.conv_shortcut`, x, outChannels, 1);
    return tf.add(shortcut, h);
  });
}

/** diffusers Downsample2D with a conv: stride 2, `padding` 1 (UNet) or 0 with (0,1,0,1) pad (VAE). */
export function downsample(w: Weights, prefix: string, x: tf.Tensor4D, padding: number): tf.Tensor4D {
  const c = x.shape[3];
  return padding === 0
    ? w.conv2d(`${prefix}.conv`, x, c, 3, { stride: 2, pad: [[0, 1], [0, 1]] })
    : w.conv2d(`${prefix}.conv`, x, c, 3, { stride: 2, pad: padding });
}

/** diffusers Upsample2D: nearest-neighbour 2× (or to `size`), then a 3×3 conv. */
export function upsample(w: Weights, prefix: string, x: tf.Tensor4D, size?: [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, wd] = size ?? [x.shape[1] * 2, x.shape[2] * 2];
    const up = tf.image.resizeNearestNeighbor(x, [h, wd]);
    return w.conv2d(`${prefix}.conv`, up, x.shape[3], 3);
  });
}

/** K and V from a context in place of to_k(ctx), to_v(ctx) (Perfusion's edit), given the layer's own projections; undefined: unchanged. */
export type KeysValues = (
  context: tf.Tensor3D,
  project: { key: (e: tf.Tensor3D) => tf.Tensor3D; value: (e: tf.Tensor3D) => tf.Tensor3D },
) => { keys: tf.Tensor3D; values: tf.Tensor3D } | undefined;

/**
 * diffusers Attention (to_q/to_k/to_v, to_out.0) over tokens x [B, N, C], with context
 * [B, M, Cc] for cross-attention; through the fused attention kernel (no N×M buffer).
 */
export function attentionLayer(w: Weights, prefix: string, x: tf.Tensor3D, context: tf.Tensor3D | null, heads: number, keysValues?: KeysValues): tf.Tensor3D {
  return tf.tidy(() => {
    const inner = x.shape[2];
    const ctx = context ?? x;
    const q = w.linear(`${prefix}.to_q`, x, inner);
    const project = {
      key: (e: tf.Tensor3D) => w.linear(`${prefix}.to_k`, e, inner) as tf.Tensor3D,
      value: (e: tf.Tensor3D) => w.linear(`${prefix}.to_v`, e, inner) as tf.Tensor3D,
    };
    const edited = keysValues?.(ctx, project);
    const k = edited?.keys ?? project.key(ctx);
    const v = edited?.values ?? project.value(ctx);
    const o = attention(q, k, v, { numHeads: heads });
    return w.linear(`${prefix}.to_out.0`, o, inner) as tf.Tensor3D;
  });
}

/**
 * Sinusoidal timestep embedding (diffusers get_timestep_embedding, max_period 10000), computed on
 * the CPU step by step in float32 as torch does (Math.fround after each op): sin of arguments
 * near 1000 would lose precision on some GPUs, and the values are tiny.
 */
export function timestepEmbedding(timesteps: ArrayLike<number>, dim: number, flipSinToCos: boolean, freqShift: number): tf.Tensor2D {
  const f = Math.fround;
  const half = Math.floor(dim / 2);
  const data = new Float32Array(timesteps.length * dim);
  for (let b = 0; b < timesteps.length; b++) {
    const t = f(timesteps[b]);
    for (let i = 0; i < half; i++) {
      const exponent = f(f(f(-Math.log(10000)) * i) / f(half - freqShift));
      const arg = f(t * f(Math.exp(exponent)));
      const [first, second] = flipSinToCos ? [Math.cos(arg), Math.sin(arg)] : [Math.sin(arg), Math.cos(arg)];
      data[b * dim + i] = first;
      data[b * dim + half + i] = second;
    }
  }
  return tf.tensor2d(data, [timesteps.length, dim]);
}
