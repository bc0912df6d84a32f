/**
 * UNet2DConditionModel (diffusers), SD 1.x/2.x family, driven by its parsed config: down blocks
 * CrossAttnDownBlock2D / DownBlock2D, mid block UNetMidBlock2DCrossAttn or none (BK-SDM), up
 * blocks UpBlock2D / CrossAttnUpBlock2D, conv or linear transformer projections. NHWC inside;
 * the public entry takes and returns NCHW like diffusers. Parameter paths are the checkpoint keys.
 */
import * as tf from '../gpu/tf';
import { geglu } from '../kernels/activations';
import { layerNorm } from '../kernels/layer-norm';
import type { UNetConfig } from './config';
import { attentionLayer, downsample, type KeysValues, groupNorm, resnetBlock, timestepEmbedding, upsample } from './layers';
import type { Weights } from './weights';

/** Intermediate outputs by diffusers module name (NCHW), for parity checks. */
export type Activations = Map<string, tf.Tensor>;

export interface UNetInput {
  /** Noisy latents, NCHW [B, C, H, W]. */
  sample: tf.Tensor4D;
  /** One timestep per batch element (integer or fractional). */
  timesteps: ArrayLike<number>;
  /** Text states [B, 77, cross_attention_dim]: every attn2's context unless `crossAttention` says otherwise. */
  encoderHiddenStates: tf.Tensor3D;
  /** Per-layer hooks on the cross-attention layers (P+ conditioning). */
  crossAttention?: CrossAttentionHooks;
}

/**
 * Hooks on each cross-attention layer, called with its forward-order index `l` and its module
 * path (`cross-attention.ts`). `context` gives layer l its own text states [B, N,
 * cross_attention_dim] (P+: one prompt encoding per layer); undefined keeps
 * `encoderHiddenStates`. It is called once per layer per forward, outside any checkpointed
 * segment, so the states it returns are the segment's inputs and their gradients flow with
 * `checkpointing` too. `keysValues` replaces how a layer computes K and V from its
 * context (Perfusion); it runs inside the segment, so the tensors it trains are named by `variables`.
 */
export interface CrossAttentionHooks {
  context?(l: number, path: string): tf.Tensor3D | undefined;
  /** K and V of the attn2 at `path` from its context, in place of to_k / to_v (Perfusion's rank-1 edit); undefined: unchanged. */
  keysValues?(path: string, context: tf.Tensor3D, project: Parameters<KeysValues>[1]): ReturnType<KeysValues>;
  /** The trainable tensors `keysValues` reads under module `module` (activation checkpointing routes their gradients). */
  variables?(module: string): tf.Variable[];
}

const TRANSFORMER_NORM_EPS = 1e-6;
const BLOCK_LN_EPS = 1e-5;

function ln(w: Weights, prefix: string, x: tf.Tensor): tf.Tensor {
  const d = x.shape[x.rank - 1];
  return layerNorm(x, w.tensor(`${prefix}.weight`, [d]), w.tensor(`${prefix}.bias`, [d]), { eps: BLOCK_LN_EPS });
}

/** diffusers BasicTransformerBlock's first half: self-attention, then cross-attention, each with its residual. */
function transformerBlockAttention(w: Weights, p: string, h: tf.Tensor3D, context: tf.Tensor3D, heads: number, hooks?: CrossAttentionHooks): tf.Tensor3D {
  const keysValues: KeysValues | undefined = hooks?.keysValues && ((ctx, project) => hooks.keysValues!(`${p}.attn2`, ctx, project));
  h = tf.add(h, attentionLayer(w, `${p}.attn1`, ln(w, `${p}.norm1`, h) as tf.Tensor3D, null, heads)) as tf.Tensor3D;
  return tf.add(h, attentionLayer(w, `${p}.attn2`, ln(w, `${p}.norm2`, h) as tf.Tensor3D, context, heads, keysValues)) as tf.Tensor3D;
}

/** BasicTransformerBlock's second half: the GEGLU feed-forward with its residual. */
function transformerBlockFeedForward(w: Weights, p: string, h: tf.Tensor3D): tf.Tensor3D {
  const dim = h.shape[2];
  const ff = geglu(w.linear(`${p}.ff.net.0.proj`, ln(w, `${p}.norm3`, h), dim * 8));
  return tf.add(h, w.linear(`${p}.ff.net.2`, ff, dim)) as tf.Tensor3D;
}

/** Layer i's context: one for all the transformer's blocks, or one each. */
const contextOf = (context: tf.Tensor3D | readonly tf.Tensor3D[], i: number): tf.Tensor3D => (Array.isArray(context) ? context[i] : (context as tf.Tensor3D));

/**
 * diffusers Transformer2DModel (continuous input), in two halves so that activation checkpointing
 * can recompute each apart (at 64×64 latents a whole transformer's activations are the step's
 * largest recompute): `transformerHead` is the norm, proj_in and block 0's attention [B, HW, C];
 * `transformerTail` block 0's feed-forward, the other blocks, proj_out and the residual.
 */
function transformerHead(w: Weights, p: string, x: tf.Tensor4D, context: tf.Tensor3D | readonly tf.Tensor3D[], heads: number, c: UNetConfig, hooks?: CrossAttentionHooks): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const normed = groupNorm(w, `${p}.norm`, x, c.normNumGroups, TRANSFORMER_NORM_EPS) as tf.Tensor4D;
    const h: tf.Tensor3D = c.useLinearProjection
      ? (w.linear(`${p}.proj_in`, normed.reshape([B, H * W, C]), C) as tf.Tensor3D)
      : w.conv2d(`${p}.proj_in`, normed, C, 1).reshape([B, H * W, C]);
    return transformerBlockAttention(w, `${p}.transformer_blocks.0`, h, contextOf(context, 0), heads, hooks);
  });
}

function transformerTail(w: Weights, p: string, h: tf.Tensor3D, x: tf.Tensor4D, context: tf.Tensor3D | readonly tf.Tensor3D[], heads: number, layers: number, c: UNetConfig, hooks?: CrossAttentionHooks): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    h = transformerBlockFeedForward(w, `${p}.transformer_blocks.0`, h);
    for (let i = 1; i < layers; i++) {
      const bp = `${p}.transformer_blocks.${i}`;
      h = transformerBlockFeedForward(w, bp, transformerBlockAttention(w, bp, h, contextOf(context, i), heads, hooks));
    }
    const out = c.useLinearProjection
      ? (w.linear(`${p}.proj_out`, h, C).reshape([B, H, W, C]) as tf.Tensor4D)
      : w.conv2d(`${p}.proj_out`, h.reshape([B, H, W, C]) as tf.Tensor4D, C, 1);
    return tf.add(out, x);
  });
}

function transformer2d(w: Weights, p: string, x: tf.Tensor4D, context: tf.Tensor3D | readonly tf.Tensor3D[], heads: number, layers: number, c: UNetConfig, hooks?: CrossAttentionHooks): tf.Tensor4D {
  return tf.tidy(() => transformerTail(w, p, transformerHead(w, p, x, context, heads, c, hooks), x, context, heads, layers, c, hooks));
}

/** Options of `unetForward`. */
export interface UNetOptions {
  /**
   * Activation checkpointing for training: each resnet of the down and up blocks, each
   * transformer's two halves (norm, proj_in and attention; feed-forward, proj_out), the mid block
   * and each upsampler keeps only its inputs for the backward pass and is recomputed there. Same results (gradients up to summation order), far fewer stored bytes.
   */
  checkpointing?: boolean;
}

/** A UNet segment: a function of its tensor inputs (the weights it reads are frozen or named apart). */
type Segment = (...inputs: tf.Tensor[]) => tf.Tensor;

/**
 * Activation checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"):
 * `f(...inputs)` as one differentiable op that keeps only its inputs for the backward pass. The
 * forward runs inside `tf.customGrad`, where the engine records no tape, so f's intermediates
 * are freed as soon as it returns; the gradient runs f again under a nested tape and
 * differentiates it with respect to the inputs and to `variables`, the trainable tensors f reads
 * by reference (LoRA adapters). Those are passed as op inputs too, so that the outer tape routes
 * their gradients through this op; a gradient is matched to its tensor by id, so the recomputed
 * f reading them by reference is enough.
 */
function checkpointed(f: Segment, inputs: tf.Tensor[], variables: tf.Variable[]): tf.Tensor {
  const n = inputs.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const xs = args.slice(0, n) as tf.Tensor[];
    save(xs); // clones sharing the inputs' buffers: nothing is copied
    return { value: f(...xs), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => recompute(f, saved, variables, dy) };
  });
  return op(...inputs, ...variables);
}

/** d f / d each of `saved` and `variables` for the output gradient `dy`, by running f again. */
function recompute(f: Segment, saved: tf.Tensor[], variables: tf.Variable[], dy: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine();
  // The outer pass is in its backward here (gradient depth 0), so the nested gradient starts a
  // fresh tape in the engine's single `activeTape` slot and clears the slot when done; the outer
  // pass still disposes its own tape's saved tensors from that slot afterwards.
  const outerTape = engine.state.activeTape;
  try {
    return tf.tidy(() => {
      const xs = [...saved, ...variables];
      const { grads } = engine.gradients(() => f(...saved), xs, dy, true);
      return xs.map((x, i) => grads[i] ?? tf.zerosLike(x));
    });
  } finally {
    engine.state.activeTape = outerTape;
  }
}

/** Where a forward stands after one block: the block's name and every tensor the rest still reads. */
type BlockDone = {
  block: string;
  live: tf.Tensor[];
};

/** Called after each layer of the UNet is queued (with its module name); a throw stops the forward there. */
export type BetweenBlocks = (block: string) => Promise<void> | void;

/** The forward on the GPU in one go (parity checks, training: the gradient tape needs it synchronous). */
export function unetForward(w: Weights, c: UNetConfig, input: UNetInput, activations?: Activations, options: UNetOptions = {}): tf.Tensor4D {
  return tf.tidy(() => {
    const blocks = unetBlocks(w, c, input, activations, options);
    for (;;) {
      const next = blocks.next();
      if (next.done) return next.value;
    }
  });
}

/**
 * The forward block by block (generation): after each block `between` runs (to pace the GPU's
 * queue and honour a cancel: `gpu/pace.ts`). Tensors the rest no longer reads are freed as it
 * goes; on a throw every tensor it made is freed.
 */
export async function unetForwardByBlocks(w: Weights, c: UNetConfig, input: UNetInput, between: BetweenBlocks): Promise<tf.Tensor4D> {
  const blocks = unetBlocks(w, c, input);
  let live: tf.Tensor[] = [];
  try {
    for (;;) {
      const step = tf.tidy(() => {
        const next = blocks.next();
        return next.done ? { done: true, block: '', live: [next.value] } : { done: false, ...next.value };
      });
      tf.dispose(live.filter((t) => !(step.live as tf.Tensor[]).includes(t)));
      live = step.live;
      if (step.done) return live[0] as tf.Tensor4D;
      await between(step.block);
    }
  } catch (error) {
    tf.dispose(live);
    blocks.return(undefined as never);
    throw error;
  }
}

/**
 * The forward as a generator: it yields after each resnet(+transformer) layer, down- and
 * upsampler and the mid block, named by its module (`down_blocks.0.attentions.1`, `mid_block`).
 */
function* unetBlocks(w: Weights, c: UNetConfig, input: UNetInput, activations?: Activations, options: UNetOptions = {}): Generator<BlockDone, tf.Tensor4D> {
  const record = (name: string, t: tf.Tensor) => {
    if (activations) activations.set(name, tf.keep(t.rank === 4 ? t.transpose([0, 3, 1, 2]) : tf.clone(t)));
  };
  /** f(...inputs), checkpointed if asked; `modules` are the prefixes whose adapters f reads. */
  const segment = <T extends tf.Tensor = tf.Tensor4D>(modules: string[], inputs: tf.Tensor[], f: Segment): T =>
    (options.checkpointing
      ? checkpointed(f, inputs, modules.flatMap((m) => [...w.trainableAdapterTensors(m), ...(input.crossAttention?.variables?.(m) ?? [])]))
      : f(...inputs)) as T;
  /**
   * A resnet and, in a cross-attention block, its transformer, as three segments (the resnet, the
   * transformer's head, its tail): `inputs` are the resnet's ([h, temb] or [h, skip, temb]).
   */
  const layer = (resnet: string, attention: string | null, inputs: tf.Tensor[], channels: number, heads: number, layers: number, es: tf.Tensor[]): tf.Tensor4D => {
    const y = segment([resnet], inputs, (...xs) => {
      const t = xs.pop() as tf.Tensor2D;
      const x = xs.length === 2 ? tf.concat(xs as tf.Tensor4D[], 3) : xs[0];
      return resnetBlock(w, resnet, x as tf.Tensor4D, channels, t, groups, eps);
    });
    if (!attention) return y;
    const head = segment<tf.Tensor3D>([attention], [y, ...es], (x, ...e) => transformerHead(w, attention, x as tf.Tensor4D, pick(e), heads, c, input.crossAttention));
    return segment([attention], [head, y, ...es], (a, x, ...e) => transformerTail(w, attention, a as tf.Tensor3D, x as tf.Tensor4D, pick(e), heads, layers, c, input.crossAttention));
  };
  const boc = c.blockOutChannels;
  const n = boc.length;
  const { groups, eps } = { groups: c.normNumGroups, eps: c.normEps };
  const ctx = input.encoderHiddenStates;
  if (ctx.shape[2] !== c.crossAttentionDim) throw new Error(`unet: text states have width ${ctx.shape[2]}, cross_attention_dim is ${c.crossAttentionDim}.`);
  if (input.timesteps.length !== input.sample.shape[0]) throw new Error('unet: one timestep per batch element is needed.');
  let layerIndex = 0;
  /** The contexts of the next `layers` attn2 layers (of `attention`), or [ctx] when no hook replaces any. */
  const contexts = (attention: string, layers: number): tf.Tensor3D[] => {
    const hook = input.crossAttention?.context;
    if (!hook) return [ctx];
    return Array.from({ length: layers }, (_, t) => {
      const path = `${attention}.transformer_blocks.${t}.attn2`;
      const e = hook.call(input.crossAttention, layerIndex++, path) ?? ctx;
      if (e.rank !== 3 || e.shape[0] !== input.sample.shape[0] || e.shape[2] !== c.crossAttentionDim) {
        throw new Error(`unet: ${path} got text states [${e.shape}], [${input.sample.shape[0]}, N, ${c.crossAttentionDim}] needed.`);
      }
      return e;
    });
  };
  /** One context for all the attention's layers, or one each. */
  const pick = (es: tf.Tensor[]): tf.Tensor3D | tf.Tensor3D[] => (es.length === 1 ? (es[0] as tf.Tensor3D) : (es as tf.Tensor3D[]));

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
    const cross = c.downBlockTypes[i] === 'CrossAttnDownBlock2D';
    for (let j = 0; j < c.layersPerBlock[i]; j++) {
      const [resnet, attention] = [`${p}.resnets.${j}`, `${p}.attentions.${j}`];
      const es = cross ? contexts(attention, c.transformerLayersPerBlock[i]) : [];
      h = layer(resnet, cross ? attention : null, [h, temb], boc[i], c.numAttentionHeads[i], c.transformerLayersPerBlock[i], es);
      skips.push(h);
      yield { block: cross ? attention : resnet, live: [h, temb, ...skips] };
    }
    if (i < n - 1) {
      h = downsample(w, `${p}.downsamplers.0`, h, c.downsamplePadding);
      skips.push(h);
      yield { block: `${p}.downsamplers.0`, live: [h, temb, ...skips] };
    }
    record(p, h);
  }

  // 4. mid
  if (c.midBlock) {
    const last = boc[n - 1];
    const es = contexts('mid_block.attentions.0', c.transformerLayersPerBlock[n - 1]);
    h = segment(['mid_block'], [h, temb, ...es], (x, t, ...e) => {
      let y = resnetBlock(w, 'mid_block.resnets.0', x as tf.Tensor4D, last, t as tf.Tensor2D, groups, eps);
      y = transformer2d(w, 'mid_block.attentions.0', y, pick(e), c.numAttentionHeads[n - 1], c.transformerLayersPerBlock[n - 1], c, input.crossAttention);
      return resnetBlock(w, 'mid_block.resnets.1', y, last, t as tf.Tensor2D, groups, eps);
    });
    record('mid_block', h);
    yield { block: 'mid_block', live: [h, temb, ...skips] };
  }

  // 5. up
  const rev = [...boc].reverse();
  const revHeads = [...c.numAttentionHeads].reverse();
  const revLayers = [...c.layersPerBlock].reverse();
  const revTransformerLayers = [...c.transformerLayersPerBlock].reverse();
  for (let i = 0; i < n; i++) {
    const p = `up_blocks.${i}`;
    const cross = c.upBlockTypes[i] === 'CrossAttnUpBlock2D';
    for (let j = 0; j < revLayers[i] + 1; j++) {
      const [resnet, attention] = [`${p}.resnets.${j}`, `${p}.attentions.${j}`];
      const skip = skips.pop()!;
      const es = cross ? contexts(attention, revTransformerLayers[i]) : [];
      h = layer(resnet, cross ? attention : null, [h, skip, temb], rev[i], revHeads[i], revTransformerLayers[i], es);
      yield { block: cross ? attention : resnet, live: [h, temb, ...skips] };
    }
    if (i < n - 1) {
      const next = skips[skips.length - 1];
      h = segment([], [h], (x) => upsample(w, `${p}.upsamplers.0`, x as tf.Tensor4D, [next.shape[1], next.shape[2]]));
      yield { block: `${p}.upsamplers.0`, live: [h, temb, ...skips] };
    }
    record(p, h);
  }

  // 6. post-process
  if (activations) record('conv_norm_out', groupNorm(w, 'conv_norm_out', h, groups, eps)); // the hook sees it before conv_act
  h = groupNorm(w, 'conv_norm_out', h, groups, eps, true) as tf.Tensor4D;
  h = w.conv2d('conv_out', h, c.outChannels, c.convOutKernel);
  return h.transpose([0, 3, 1, 2]);
}
