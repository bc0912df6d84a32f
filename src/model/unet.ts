/**
 * UNet2DConditionModel (diffusers), SD 1.x/2.x family, driven by its parsed config: down blocks
 * CrossAttnDownBlock2D / DownBlock2D, mid block UNetMidBlock2DCrossAttn or none (BK-SDM), up
 * blocks UpBlock2D / CrossAttnUpBlock2D, conv or linear transformer projections. NHWC inside;
 * the public entry takes and returns NCHW like diffusers. Parameter paths are the checkpoint keys.
 */
import * as tf from '../engine/tf';
import { geglu } from '../kernels/activations';
import { layerNorm } from '../kernels/norms';
import type { UNetConfig } from './config';
import { attentionLayer, downsample, groupNorm, resnetBlock, timestepEmbedding, upsample } from './layers';
import type { Weights } from './weights';

/** Intermediate outputs by diffusers module name (NCHW), for parity checks. */
export type Activations = Map<string, tf.Tensor>;

export interface UNetInput {
  /** Noisy latents, NCHW [B, C, H, W]. */
  sample: tf.Tensor4D;
  /** One timestep per batch element (integer or fractional). */
  timesteps: ArrayLike<number>;
  /** Text states [B, 77, cross_attention_dim]. */
  encoderHiddenStates: tf.Tensor3D;
}

const TRANSFORMER_NORM_EPS = 1e-6;
const BLOCK_LN_EPS = 1e-5;

function ln(w: Weights, prefix: string, x: tf.Tensor): tf.Tensor {
  const d = x.shape[x.rank - 1];
  return layerNorm(x, w.tensor(`${prefix}.weight`, [d]), w.tensor(`${prefix}.bias`, [d]), { eps: BLOCK_LN_EPS });
}

/** diffusers BasicTransformerBlock: self-attention, cross-attention, GEGLU feed-forward. */
function transformerBlock(w: Weights, p: string, h: tf.Tensor3D, context: tf.Tensor3D, heads: number): tf.Tensor3D {
  const dim = h.shape[2];
  h = tf.add(h, attentionLayer(w, `${p}.attn1`, ln(w, `${p}.norm1`, h) as tf.Tensor3D, null, heads)) as tf.Tensor3D;
  h = tf.add(h, attentionLayer(w, `${p}.attn2`, ln(w, `${p}.norm2`, h) as tf.Tensor3D, context, heads)) as tf.Tensor3D;
  const ff = geglu(w.linear(`${p}.ff.net.0.proj`, ln(w, `${p}.norm3`, h), dim * 8));
  return tf.add(h, w.linear(`${p}.ff.net.2`, ff, dim)) as tf.Tensor3D;
}

/** diffusers Transformer2DModel (continuous input). */
function transformer2d(w: Weights, p: string, x: tf.Tensor4D, context: tf.Tensor3D, heads: number, layers: number, c: UNetConfig): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const normed = groupNorm(w, `${p}.norm`, x, c.normNumGroups, TRANSFORMER_NORM_EPS) as tf.Tensor4D;
    let h: tf.Tensor3D = c.useLinearProjection
      ? (w.linear(`${p}.proj_in`, normed.reshape([B, H * W, C]), C) as tf.Tensor3D)
      : w.conv2d(`${p}.proj_in`, normed, C, 1).reshape([B, H * W, C]);
    for (let i = 0; i < layers; i++) h = transformerBlock(w, `${p}.transformer_blocks.${i}`, h, context, heads);
    const out = c.useLinearProjection
      ? (w.linear(`${p}.proj_out`, h, C).reshape([B, H, W, C]) as tf.Tensor4D)
      : w.conv2d(`${p}.proj_out`, h.reshape([B, H, W, C]) as tf.Tensor4D, C, 1);
    return tf.add(out, x);
  });
}

export function unetForward(w: Weights, c: UNetConfig, input: UNetInput, activations?: Activations): tf.Tensor4D {
  const record = (name: string, t: tf.Tensor) => {
    if (activations) activations.set(name, tf.keep(t.rank === 4 ? t.transpose([0, 3, 1, 2]) : tf.clone(t)));
  };
  return tf.tidy(() => {
    const boc = c.blockOutChannels;
    const n = boc.length;
    const { groups, eps } = { groups: c.normNumGroups, eps: c.normEps };
    const ctx = input.encoderHiddenStates;
    if (ctx.shape[2] !== c.crossAttentionDim) throw new Error(`unet: text states have width ${ctx.shape[2]}, cross_attention_dim is ${c.crossAttentionDim}.`);
    if (input.timesteps.length !== input.sample.shape[0]) throw new Error('unet: one timestep per batch element is needed.');

    // 1. time
    const tProj = timestepEmbedding(input.timesteps, boc[0], c.flipSinToCos, c.freqShift);
    record('time_proj', tProj);
    let temb = w.linear('time_embedding.linear_1', tProj, c.timeEmbedDim);
    temb = w.linear('time_embedding.linear_2', tf.mul(tf.sigmoid(temb), temb), c.timeEmbedDim);
    record('time_embedding', temb);

    // 2. pre-process
    let h = w.conv2d('conv_in', input.sample.transpose([0, 2, 3, 1]) as tf.Tensor4D, boc[0], c.convInKernel);
    record('conv_in', h);

    // 3. down
    const skips: tf.Tensor4D[] = [h];
    for (let i = 0; i < n; i++) {
      const p = `down_blocks.${i}`;
      for (let j = 0; j < c.layersPerBlock[i]; j++) {
        h = resnetBlock(w, `${p}.resnets.${j}`, h, boc[i], temb as tf.Tensor2D, groups, eps);
        if (c.downBlockTypes[i] === 'CrossAttnDownBlock2D') {
          h = transformer2d(w, `${p}.attentions.${j}`, h, ctx, c.numAttentionHeads[i], c.transformerLayersPerBlock[i], c);
        }
        skips.push(h);
      }
      if (i < n - 1) {
        h = downsample(w, `${p}.downsamplers.0`, h, c.downsamplePadding);
        skips.push(h);
      }
      record(p, h);
    }

    // 4. mid
    if (c.midBlock) {
      const last = boc[n - 1];
      h = resnetBlock(w, 'mid_block.resnets.0', h, last, temb as tf.Tensor2D, groups, eps);
      h = transformer2d(w, 'mid_block.attentions.0', h, ctx, c.numAttentionHeads[n - 1], c.transformerLayersPerBlock[n - 1], c);
      h = resnetBlock(w, 'mid_block.resnets.1', h, last, temb as tf.Tensor2D, groups, eps);
      record('mid_block', h);
    }

    // 5. up
    const rev = [...boc].reverse();
    const revHeads = [...c.numAttentionHeads].reverse();
    const revLayers = [...c.layersPerBlock].reverse();
    const revTransformerLayers = [...c.transformerLayersPerBlock].reverse();
    for (let i = 0; i < n; i++) {
      const p = `up_blocks.${i}`;
      for (let j = 0; j < revLayers[i] + 1; j++) {
        const skip = skips.pop()!;
        h = tf.concat([h, skip], 3) as tf.Tensor4D;
        h = resnetBlock(w, `${p}.resnets.${j}`, h, rev[i], temb as tf.Tensor2D, groups, eps);
        if (c.upBlockTypes[i] === 'CrossAttnUpBlock2D') {
          h = transformer2d(w, `${p}.attentions.${j}`, h, ctx, revHeads[i], revTransformerLayers[i], c);
        }
      }
      if (i < n - 1) {
        const next = skips[skips.length - 1];
        h = upsample(w, `${p}.upsamplers.0`, h, [next.shape[1], next.shape[2]]);
      }
      record(p, h);
    }

    // 6. post-process
    if (activations) record('conv_norm_out', groupNorm(w, 'conv_norm_out', h, groups, eps)); // the hook sees it before conv_act
    h = groupNorm(w, 'conv_norm_out', h, groups, eps, true) as tf.Tensor4D;
    h = w.conv2d('conv_out', h, c.outChannels, c.convOutKernel);
    return h.transpose([0, 3, 1, 2]);
  });
}
