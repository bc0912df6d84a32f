/**
 * GroupNorm, optionally fused with SiLU, forward and backward.
 *
 * Math (torch semantics, biased variance, statistics in f32):
 *   xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), y = xhat * gamma + beta [, silu(y)]
 *   da = dy [* silu'(a)], dgamma = sum da * xhat, dbeta = sum da,
 *   dx = rstd * (gamma da - mean(gamma da) - xhat * mean(gamma da * xhat)).
 * mean/var over each (batch, group) of S * C/G elements. Statistics are two-pass (mean, then
 * squared deviations) within a chunk of rows, and chunks are merged with Chan et al.'s parallel
 * formula, so large offsets do not cancel.
 *
 * Layout: x is NHWC [B, H, W, C] or [B, N, C], read flat as [B, S, C] (S = H*W or N), group
 * g = channels [g*C/G, (g+1)*C/G); gamma, beta: [C]. No reshapes: every kernel indexes flat
 * buffers. Elementwise kernels take four channels per invocation when C % 4 == 0 (`*_vec4.wgsl`).
 *
 * Programs (shaders/*.wgsl), 64 invocations per workgroup, and the buffers each allocates
 * (P chunks of rows, see norm-shared.ts):
 *  forward: group_norm_stats_partial -> vec2 [B, P, C] per-chunk channel (mean, M2);
 *    group_norm_stats -> vec2 [B*G] (mean, rstd); group_norm_stats_expand -> vec2 [B, C], the
 *    statistics per channel, kept for the backward pass; group_norm[_vec4] -> y [x.shape].
 *  backward: group_norm_grad_partial -> vec2 [B, P, C] (sum da, sum da xhat);
 *    group_norm_grad_coeffs -> vec2 [B*G]; group_norm_grad_table -> vec4 [B, C];
 *    group_norm_grad[_vec4] -> dx [x.shape]; group_norm_param_grad twice -> dgamma, dbeta [C];
 *    a zero gradient for the statistics input [B, C, 2].
 * Only y and dx have the input's size; every intermediate is per channel.
 */
import * as tf from '../gpu/tf';
import statsPartialSource from '../../shaders/group_norm_stats_partial.wgsl?raw';
import statsSource from '../../shaders/group_norm_stats.wgsl?raw';
import statsExpandSource from '../../shaders/group_norm_stats_expand.wgsl?raw';
import forwardSource from '../../shaders/group_norm.wgsl?raw';
import forwardVec4Source from '../../shaders/group_norm_vec4.wgsl?raw';
import gradPartialSource from '../../shaders/group_norm_grad_partial.wgsl?raw';
import gradCoeffsSource from '../../shaders/group_norm_grad_coeffs.wgsl?raw';
import gradTableSource from '../../shaders/group_norm_grad_table.wgsl?raw';
import gradSource from '../../shaders/group_norm_grad.wgsl?raw';
import gradVec4Source from '../../shaders/group_norm_grad_vec4.wgsl?raw';
import { runKernel, workgroupGrid, type KernelDef } from './kernel';
import { WG, checkAffine, chunking, i32, normOp, paramGrads, u32, type NormOp } from './norm-shared';

export interface GroupNormOptions {
  /** Number of groups G; must divide the channel count (SD: 32). */
  groups: number;
  /** SD: 1e-5 in the UNet resnets, 1e-6 in the transformers' GroupNorm and the VAE. */
  eps: number;
  /** Apply SiLU after the affine (ResnetBlock2D's norm + nonlinearity). */
  silu?: boolean;
}

const STATS_PARTIAL: KernelDef = {
  name: 'group_norm_stats_partial',
  source: statsPartialSource,
  inputs: ['x'],
  uniforms: [['S', i32], ['C', i32], ['rowsPerChunk', i32], ['chunks', i32]],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1],
};

const STATS: KernelDef = {
  name: 'group_norm_stats',
  source: statsSource,
  inputs: ['partials'],
  uniforms: [['S', i32], ['C', i32], ['cpg', i32], ['groups', i32], ['rowsPerChunk', i32], ['chunks', i32], ['eps', 'f32']],
  outputComponent: 2,
};

const STATS_EXPAND: KernelDef = {
  name: 'group_norm_stats_expand',
  source: statsExpandSource,
  inputs: ['groupStats'],
  uniforms: [['C', i32], ['cpg', i32], ['groups', i32]],
  outputComponent: 2,
};

const GRAD_PARTIAL: KernelDef = {
  name: 'group_norm_grad_partial',
  source: gradPartialSource,
  inputs: ['x', 'dy', 'stats', 'gamma', 'beta'],
  uniforms: [['S', i32], ['C', i32], ['rowsPerChunk', i32], ['chunks', i32]],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1, 1, 2, 1, 1],
};

const GRAD_COEFFS: KernelDef = {
  name: 'group_norm_grad_coeffs',
  source: gradCoeffsSource,
  inputs: ['partials', 'gamma'],
  uniforms: [['C', i32], ['cpg', i32], ['groups', i32], ['chunks', i32], ['invCount', 'f32']],
  outputComponent: 2,
  inputComponents: [2, 1],
};

const GRAD_TABLE: KernelDef = {
  name: 'group_norm_grad_table',
  source: gradTableSource,
  inputs: ['stats', 'coeffs', 'gamma'],
  uniforms: [['C', i32], ['cpg', i32], ['groups', i32]],
  outputComponent: 4,
  inputComponents: [2, 2, 1],
};

/** An elementwise pass over x: its one-channel program and its four-channel `_vec4` program. */
interface Elementwise {
  scalar: KernelDef;
  vec4: KernelDef;
}

function elementwiseDefs(name: string, [source, vec4Source]: [string, string], inputs: string[], components: number[]): Elementwise {
  return {
    scalar: { name, source, inputs, uniforms: [['n', i32], ['C', i32], ['batchStride', i32]], workgroupSize: [WG, 1, 1], inputComponents: components },
    vec4: {
      name: `${name}_vec4`,
      source: vec4Source,
      inputs,
      uniforms: [['n', i32], ['C4', i32], ['batchStride', i32]],
      outputComponent: 4,
      workgroupSize: [WG, 1, 1],
      inputComponents: inputs.map(() => 4),
    },
  };
}

const FORWARD = elementwiseDefs('group_norm', [forwardSource, forwardVec4Source], ['x', 'stats', 'gamma', 'beta'], [1, 2, 1, 1]);
const GRAD = elementwiseDefs('group_norm_grad', [gradSource, gradVec4Source], ['x', 'dy', 'table', 'beta'], [1, 1, 4, 1]);

interface GroupDims {
  B: number;
  S: number;
  C: number;
  G: number;
  cpg: number;
}

function groupDims(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups: number): GroupDims {
  if (x.rank !== 3 && x.rank !== 4) throw new Error(`groupNorm: x must be [B, H, W, C] or [B, N, C], got [${x.shape}].`);
  if (x.dtype !== 'float32') throw new Error(`groupNorm: x must be float32, got ${x.dtype}.`);
  const B = x.shape[0];
  const C = x.shape[x.rank - 1];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) {
    throw new Error(`groupNorm: groups (${groups}) must be a positive divisor of the channel count ${C}.`);
  }
  checkAffine('groupNorm', gamma, beta, C);
  return { B, S: x.size / (B * C), C, G: groups, cpg: C / groups };
}

/** (mean, rstd) of each channel's group as [B, C, 2]; not differentiable (an input of the op below). */
function groupNormStats(x: tf.Tensor, { B, S, C, G, cpg }: GroupDims, eps: number): tf.Tensor {
  const { rowsPerChunk, chunks } = chunking(S);
  const partials = runKernel(STATS_PARTIAL, {
    inputs: [x],
    outputShape: [B, chunks, C, 2],
    uniforms: { S, C, rowsPerChunk, chunks },
    constants: { WG: u32(WG) },
    dispatch: [Math.ceil(C / WG), chunks, B],
  });
  const groupStats = runKernel(STATS, {
    inputs: [partials],
    outputShape: [B * G, 2],
    uniforms: { S, C, cpg, groups: G, rowsPerChunk, chunks, eps },
  });
  const stats = runKernel(STATS_EXPAND, {
    inputs: [groupStats],
    outputShape: [B, C, 2],
    uniforms: { C, cpg, groups: G },
  });
  tf.dispose([partials, groupStats]);
  return stats;
}

/** Runs an elementwise pass over x [B, S, C]: four channels per invocation when C % 4 == 0. */
function runElementwise(defs: Elementwise, x: tf.Tensor, S: number, C: number, inputs: tf.Tensor[], silu: boolean): tf.Tensor {
  const vec4 = C % 4 === 0;
  const n = vec4 ? x.size / 4 : x.size;
  return runKernel(vec4 ? defs.vec4 : defs.scalar, {
    inputs,
    outputShape: x.shape,
    uniforms: vec4 ? { n, C4: C / 4, batchStride: (S * C) / 4 } : { n, C, batchStride: S * C },
    constants: { SILU: { type: 'bool', value: silu } },
    dispatch: workgroupGrid(Math.ceil(n / WG)),
  });
}

function makeGroupNormOp(groups: number, silu: boolean): NormOp {
  return normOp(
    (x, gamma, beta, stats) => {
      const { S, C } = groupDims(x, gamma, beta, groups);
      return runElementwise(FORWARD, x, S, C, [x, stats, gamma, beta], silu);
    },
    (dy, x, gamma, beta, stats) => {
      const { B, S, C, cpg } = groupDims(x, gamma, beta, groups);
      const { rowsPerChunk, chunks } = chunking(S);
      const partials = runKernel(GRAD_PARTIAL, {
        inputs: [x, dy, stats, gamma, beta],
        outputShape: [B, chunks, C, 2],
        uniforms: { S, C, rowsPerChunk, chunks },
        constants: { SILU: { type: 'bool', value: silu }, WG: u32(WG) },
        dispatch: [Math.ceil(C / WG), chunks, B],
      });
      const coeffs = runKernel(GRAD_COEFFS, {
        inputs: [partials, gamma],
        outputShape: [B * groups, 2],
        uniforms: { C, cpg, groups, chunks, invCount: 1 / (S * cpg) },
      });
      const table = runKernel(GRAD_TABLE, {
        inputs: [stats, coeffs, gamma],
        outputShape: [B, C, 4],
        uniforms: { C, cpg, groups },
      });
      const dx = runElementwise(GRAD, x, S, C, [x, dy, table, beta], silu);
      const [dgamma, dbeta] = paramGrads(partials, B * chunks, C);
      tf.dispose([partials, coeffs, table]);
      return [dx, dgamma, dbeta];
    },
  );
}

const groupNormOps = new Map<string, NormOp>();

/**
 * torch.nn.GroupNorm over NHWC (or [B, N, C]) input, optionally followed by SiLU; differentiable
 * in x, gamma and beta.
 */
export function groupNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, options: GroupNormOptions): tf.Tensor {
  const { groups, eps, silu = false } = options;
  const dims = groupDims(x, gamma, beta, groups);
  const key = `${groups}/${silu}`;
  let op = groupNormOps.get(key);
  if (!op) groupNormOps.set(key, (op = makeGroupNormOp(groups, silu)));
  const stats = groupNormStats(x, dims, eps);
  const y = op(x, gamma, beta, stats);
  stats.dispose(); // the op keeps its own reference for the backward pass
  return y;
}
