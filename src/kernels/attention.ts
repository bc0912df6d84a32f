/**
 * Fused scaled-dot-product attention (flash-attention style), forward and backward.
 *
 * Math: out = softmax(scale · Q Kᵀ [+ causal mask]) V per batch and head, scale = 1/sqrt(d) by
 * default; causal: query i sees key j when j <= i (top-left aligned, as torch's `is_causal`).
 * Backward (FlashAttention-2): D = rowsum(dO ∘ O), P recomputed from the saved log-sum-exp,
 * dV = Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − D), dQ = scale · dS K, dK = scale · dSᵀ Q.
 *
 * Layout (what diffusers' to_q/to_k/to_v produce, no transposes): q [B, Nq, H·d];
 * k, v [B, Nk, H·d]; out [B, Nq, H·d]; head h is columns h·d .. h·d+d−1. d <= 160.
 *
 * Kernels. The row kernels run one workgroup of 64 invocations per (block of rows, batch·head);
 * each invocation owns RPT rows (1, 2 or 4, by d) and keeps them and their accumulators in
 * private vec4 arrays, while the other operand streams through workgroup-memory tiles, each tile
 * element then serving RPT rows (on lavapipe every workgroup-memory read inside a loop is a
 * per-lane gather, so this reuse is what makes the kernels fast there):
 *  - attention_forward: per query row, loops over K/V tiles with an online softmax.
 *    Workgroup memory: K and V tiles, 2 · KEY_TILE · ceil(d/4) vec4.
 *  - attention_backward_delta: flat, per query row: (lse · log2 e, D).
 *  - attention_backward_dq: per query row, loops over K/V tiles; workgroup memory as the forward.
 *  - attention_backward_dkv: per key row, loops over Q/dO tiles (no atomics). Workgroup memory:
 *    2 · QUERY_TILE · ceil(d/4) vec4 plus QUERY_TILE vec2 stats.
 * Tiles are 8 to 64 rows, sized to the device's maxComputeWorkgroupStorageSize (16 KiB at least).
 * Shared WGSL (KernelDef.includes): shaders/lib/attention_rows.wgsl (block indexing, head-row
 * loads and stores; all three row kernels), lib/attention_dout.wgsl (dQ, dK/dV) and
 * lib/attention_key_tile.wgsl (K/V tiles and their staging; forward, dQ).
 *
 * Buffers (nothing of size Nq·Nk, ever): forward: a packed [B·Nq·H·d + B·H·Nq] (out, lse) result,
 * then copies out [B, Nq, H·d] and lse [B, H, Nq] (saved for the backward); packed is freed.
 * Backward: stats [B·H·Nq, 2], dq [B, Nq, H·d], a packed [2·B·Nk·H·d] (dk, dv) and its two copies
 * dk, dv [B, Nk, H·d]; stats and the packed buffer are freed.
 */
import * as tf from '../gpu/tf';
import forwardSource from '../../shaders/attention_forward.wgsl?raw';
import deltaSource from '../../shaders/attention_backward_delta.wgsl?raw';
import dqSource from '../../shaders/attention_backward_dq.wgsl?raw';
import dkvSource from '../../shaders/attention_backward_dkv.wgsl?raw';
import rowsLib from '../../shaders/lib/attention_rows.wgsl?raw';
import doutLib from '../../shaders/lib/attention_dout.wgsl?raw';
import keyTileLib from '../../shaders/lib/attention_key_tile.wgsl?raw';
import { attentionComposed, type AttentionOptions } from './attention-composed';
import { runKernel, type Constant, type KernelDef } from './kernel';
import { webgpuBackend } from '../gpu/tf-backend';

export type { AttentionOptions };

export const MAX_HEAD_DIM = 160;
const THREADS = 64;
const MAX_TILE_ROWS = 64;
/** Workgroup memory besides the tiles: the shared loop bound (padded). */
const OTHER_SHARED_BYTES = 16;
/**
 * Most rows × ceil(d/4) vec4s per private array before lavapipe's compiler stops unrolling the
 * row loops and spills (measured at d = 40): forward and dQ keep 3 arrays per row, dK/dV 4.
 */
const ROW_VEC4S = 40;
const KEY_VEC4S = 20;

const SIZES = [['numQueries', 'i32'], ['numKeys', 'i32'], ['numHeads', 'i32'], ['batch', 'i32']] as const;
const FORWARD: KernelDef = {
  name: 'attention_forward',
  source: forwardSource,
  inputs: ['q', 'k', 'v'],
  uniforms: [...SIZES, ['scaleLog2', 'f32']],
  workgroupSize: [THREADS, 1, 1],
  includes: [rowsLib, keyTileLib],
};
const DELTA: KernelDef = {
  name: 'attention_backward_delta',
  source: deltaSource,
  inputs: ['output', 'dout', 'lse'],
  uniforms: [['numQueries', 'i32'], ['numHeads', 'i32']],
  outputComponent: 2,
  inputComponents: [1, 1, 1],
};
const DQ: KernelDef = {
  name: 'attention_backward_dq',
  source: dqSource,
  inputs: ['q', 'k', 'v', 'dout', 'stats'],
  uniforms: [...SIZES, ['scale', 'f32'], ['scaleLog2', 'f32']],
  workgroupSize: [THREADS, 1, 1],
  inputComponents: [1, 1, 1, 1, 2],
  includes: [rowsLib, doutLib, keyTileLib],
};
const DKV: KernelDef = { ...DQ, name: 'attention_backward_dkv', source: dkvSource, includes: [rowsLib, doutLib] };

/** Rows of a tile of `tensors` d-vectors (plus `extraBytes` per row) that fit the workgroup memory. */
function tileRows(headDim: number, tensors: number, extraBytes: number): number {
  const bytes = webgpuBackend().device.limits.maxComputeWorkgroupStorageSize - OTHER_SHARED_BYTES;
  const rowBytes = tensors * Math.ceil(headDim / 4) * 16 + extraBytes;
  let rows = MAX_TILE_ROWS;
  while (rows > 8 && rows * rowBytes > bytes) rows /= 2;
  return rows;
}

/**
 * Rows per invocation (4, 2 or 1): each tile element read from workgroup memory then serves that
 * many rows. The most whose private arrays (rows × ceil(d/4) vec4 each) stay within `maxVec4s`.
 */
function rowsPerThread(headDim: number, maxVec4s: number): number {
  const d4 = Math.ceil(headDim / 4);
  return d4 * 4 <= maxVec4s ? 4 : d4 * 2 <= maxVec4s ? 2 : 1;
}

export interface AttentionShapes {
  batch: number;
  numQueries: number;
  numKeys: number;
  numHeads: number;
  headDim: number;
  scale: number;
  causal: boolean;
}

export function attentionShapes(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions): AttentionShapes {
  const { numHeads, causal = false } = options;
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) {
    throw new Error(`attention: q, k, v must be [B, N, H·d], got [${q.shape}], [${k.shape}], [${v.shape}].`);
  }
  if (!tf.util.arraysEqual(k.shape, v.shape)) throw new Error(`attention: k [${k.shape}] and v [${v.shape}] differ.`);
  const [batch, numQueries, width] = q.shape as [number, number, number];
  if (k.shape[0] !== batch || k.shape[2] !== width) {
    throw new Error(`attention: k [${k.shape}] does not match q [${q.shape}] in batch or width.`);
  }
  if (!(numHeads >= 1) || !Number.isInteger(numHeads) || width % numHeads !== 0) {
    throw new Error(`attention: numHeads ${numHeads} does not divide the width ${width}.`);
  }
  const headDim = width / numHeads;
  if (headDim > MAX_HEAD_DIM) throw new Error(`attention: head dim ${headDim} exceeds ${MAX_HEAD_DIM}.`);
  if (q.dtype !== 'float32' || k.dtype !== 'float32' || v.dtype !== 'float32') throw new Error('attention: inputs must be float32.');
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  return { batch, numQueries, numKeys: k.shape[1] as number, numHeads, headDim, scale, causal };
}

/** Constants and dispatch of a kernel where each invocation owns `rpt` of the `rows` rows. */
function rowLaunch(s: AttentionShapes, rows: number, rpt: number, tile: [name: string, rows: number]) {
  const constants: Record<string, Constant> = {
    HEAD_DIM: { type: 'i32', value: s.headDim },
    D4: { type: 'i32', value: Math.ceil(s.headDim / 4) },
    THREADS: { type: 'i32', value: THREADS },
    RPT: { type: 'i32', value: rpt },
    [tile[0]]: { type: 'i32', value: tile[1] },
    CAUSAL: { type: 'bool', value: s.causal },
  };
  const dispatch: [number, number, number] = [Math.ceil(rows / (THREADS * rpt)), s.batch * s.numHeads, 1];
  return { constants, dispatch };
}

function sizes(s: AttentionShapes) {
  return { numQueries: s.numQueries, numKeys: s.numKeys, numHeads: s.numHeads, batch: s.batch };
}

/** Output [B, Nq, H·d] and lse [B, H, Nq]. */
export function attentionForward(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, s: AttentionShapes): { out: tf.Tensor; lse: tf.Tensor } {
  const outSize = s.batch * s.numQueries * s.numHeads * s.headDim;
  const packed = runKernel(FORWARD, {
    inputs: [q, k, v],
    outputShape: [outSize + s.batch * s.numHeads * s.numQueries],
    uniforms: { ...sizes(s), scaleLog2: s.scale * Math.LOG2E },
    ...rowLaunch(s, s.numQueries, rowsPerThread(s.headDim, ROW_VEC4S), ['KEY_TILE', tileRows(s.headDim, 2, 0)]),
  });
  return tf.tidy(() => {
    const out = tf.reshape(tf.slice(packed, 0, outSize), q.shape);
    const lse = tf.reshape(tf.slice(packed, outSize), [s.batch, s.numHeads, s.numQueries]);
    packed.dispose();
    return { out, lse };
  });
}

/** dq, dk, dv from the output gradient `dout` and the saved forward results. */
export function attentionBackward(
  dout: tf.Tensor,
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  out: tf.Tensor,
  lse: tf.Tensor,
  s: AttentionShapes,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const stats = runKernel(DELTA, {
    inputs: [out, dout, lse],
    outputShape: [s.batch * s.numHeads * s.numQueries, 2],
    uniforms: { numQueries: s.numQueries, numHeads: s.numHeads },
    constants: { HEAD_DIM: { type: 'i32', value: s.headDim } },
  });
  const inputs = [q, k, v, dout, stats];
  const uniforms = { ...sizes(s), scale: s.scale, scaleLog2: s.scale * Math.LOG2E };
  const dq = runKernel(DQ, {
    inputs,
    outputShape: q.shape,
    uniforms,
    ...rowLaunch(s, s.numQueries, rowsPerThread(s.headDim, ROW_VEC4S), ['KEY_TILE', tileRows(s.headDim, 2, 0)]),
  });
  const dkv = runKernel(DKV, {
    inputs,
    outputShape: [2 * k.size],
    uniforms,
    ...rowLaunch(s, s.numKeys, rowsPerThread(s.headDim, KEY_VEC4S), ['QUERY_TILE', tileRows(s.headDim, 2, 8)]),
  });
  stats.dispose();
  return tf.tidy(() => {
    const dk = tf.reshape(tf.slice(dkv, 0, k.size), k.shape);
    const dv = tf.reshape(tf.slice(dkv, k.size), k.shape);
    dkv.dispose();
    return [dq, dk, dv];
  });
}

/** Query rows per block for heads wider than the kernel takes. */
const WIDE_QUERY_BLOCK = 1024;

/**
 * Heads wider than MAX_HEAD_DIM (the VAE's single 512-wide head): composed tfjs ops over blocks
 * of WIDE_QUERY_BLOCK query rows, so the scores stay [B, H, block, Nk] (16 MiB at Nk = 4096).
 */
function wideHeadAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions): tf.Tensor {
  if (options.causal) throw new Error(`attention: causal heads wider than ${MAX_HEAD_DIM} are not supported.`);
  const numQueries = q.shape[1] as number;
  if (numQueries <= WIDE_QUERY_BLOCK) return attentionComposed(q, k, v, options);
  return tf.tidy(() => {
    const blocks: tf.Tensor[] = [];
    for (let start = 0; start < numQueries; start += WIDE_QUERY_BLOCK) {
      const rows = Math.min(WIDE_QUERY_BLOCK, numQueries - start);
      blocks.push(attentionComposed(tf.slice(q, [0, start, 0], [-1, rows, -1]), k, v, options));
    }
    return tf.concat(blocks, 1);
  });
}

/**
 * softmax(scale · Q Kᵀ) V over `numHeads` heads; differentiable in q, k and v. See the header
 * for layout and buffers. Heads wider than MAX_HEAD_DIM take a blocked composed path.
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions): tf.Tensor {
  if (q.rank === 3 && (q.shape[2] as number) / options.numHeads > MAX_HEAD_DIM) return wideHeadAttention(q, k, v, options);
  const s = attentionShapes(q, k, v, options);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [qi, ki, vi] = args as tf.Tensor[];
    const { out, lse } = attentionForward(qi, ki, vi, s);
    save([qi, ki, vi, out, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, sout, slse] = saved;
        return attentionBackward(dy as tf.Tensor, sq, sk, sv, sout, slse, s);
      },
    };
  });
  return op(q, k, v);
}
