/**
 * AutoencoderKL (diffusers): encoder to a diagonal Gaussian posterior (mean, logvar clamped to
 * [-30, 20]) and decoder, NCHW at the boundary, NHWC inside. Parameter paths are the checkpoint
 * keys; old checkpoints' mid-block attention names (query/key/value/proj_attn) are renamed at load.
 */
import * as tf from '../gpu/tf';
import type { VaeConfig } from './config';
import { attentionLayer, downsample, groupNorm, resnetBlock, upsample } from './layers';
import type { Weights } from './weights';

const EPS = 1e-6;

/** Maps pre-0.14 diffusers VAE attention keys to today's (as diffusers does when loading). */
export function renameLegacyVaeKey(key: string): string {
  return key
    .replace(/(mid_block\.attentions\.0)\.query\./, '$1.to_q.')
    .replace(/(mid_block\.attentions\.0)\.key\./, '$1.to_k.')
    .replace(/(mid_block\.attentions\.0)\.value\./, '$1.to_v.')
    .replace(/(mid_block\.attentions\.0)\.proj_attn\./, '$1.to_out.0.');
}

/** UNetMidBlock2D with one single-head attention (VAE). */
function midBlock(w: Weights, p: string, x: tf.Tensor4D, c: VaeConfig): tf.Tensor4D {
  const ch = x.shape[3];
  let h = resnetBlock(w, `${p}.resnets.0`, x, ch, null, c.normNumGroups, EPS);
  if (c.midBlockAttention) {
    const [B, H, W] = h.shape;
    const normed = groupNorm(w, `${p}.attentions.0.group_norm`, h, c.normNumGroups, EPS).reshape([B, H * W, ch]) as tf.Tensor3D;
    const a = attentionLayer(w, `${p}.attentions.0`, normed, null, 1).reshape([B, H, W, ch]);
    h = tf.add(a, h) as tf.Tensor4D;
  }
  return resnetBlock(w, `${p}.resnets.1`, h, ch, null, c.normNumGroups, EPS);
}

export interface Posterior {
  mean: tf.Tensor4D;
  logvar: tf.Tensor4D;
}

/** Image [B, 3, H, W] in [-1, 1] → posterior over latents [B, 4, H/8, W/8]. */
export function vaeEncode(w: Weights, c: VaeConfig, image: tf.Tensor4D): Posterior {
  return tf.tidy(() => {
    const boc = c.blockOutChannels;
    let h = w.conv2d('encoder.conv_in', image.transpose([0, 2, 3, 1]) as tf.Tensor4D, boc[0], 3);
    for (let i = 0; i < boc.length; i++) {
      for (let j = 0; j < c.layersPerBlock; j++) h = resnetBlock(w, `encoder.down_blocks.${i}.resnets.${j}`, h, boc[i], null, c.normNumGroups, EPS);
      if (i < boc.length - 1) h = downsample(w, `encoder.down_blocks.${i}.downsamplers.0`, h, 0);
    }
    h = midBlock(w, 'encoder.mid_block', h, c);
    h = groupNorm(w, 'encoder.conv_norm_out', h, c.normNumGroups, EPS, true) as tf.Tensor4D;
    h = w.conv2d('encoder.conv_out', h, 2 * c.latentChannels, 3);
    if (c.useQuantConv) h = w.conv2d('quant_conv', h, 2 * c.latentChannels, 1);
    const [mean, logvar] = tf.split(h, 2, 3);
    return {
      mean: mean.transpose([0, 3, 1, 2]) as tf.Tensor4D,
      logvar: tf.clipByValue(logvar, -30, 20).transpose([0, 3, 1, 2]) as tf.Tensor4D,
    };
  });
}

/** Latents [B, 4, h, w] (already divided by scaling_factor) → image [B, 3, 8h, 8w] in about [-1, 1]. */
export function vaeDecode(w: Weights, c: VaeConfig, latents: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const rev = [...c.blockOutChannels].reverse();
    let h = latents.transpose([0, 2, 3, 1]) as tf.Tensor4D;
    if (c.usePostQuantConv) h = w.conv2d('post_quant_conv', h, c.latentChannels, 1);
    h = w.conv2d('decoder.conv_in', h, rev[0], 3);
    h = midBlock(w, 'decoder.mid_block', h, c);
    for (let i = 0; i < rev.length; i++) {
      for (let j = 0; j < c.layersPerBlock + 1; j++) h = resnetBlock(w, `decoder.up_blocks.${i}.resnets.${j}`, h, rev[i], null, c.normNumGroups, EPS);
      if (i < rev.length - 1) h = upsample(w, `decoder.up_blocks.${i}.upsamplers.0`, h);
    }
    h = groupNorm(w, 'decoder.conv_norm_out', h, c.normNumGroups, EPS, true) as tf.Tensor4D;
    h = w.conv2d('decoder.conv_out', h, c.outChannels, 3);
    return h.transpose([0, 3, 1, 2]);
  });
}
