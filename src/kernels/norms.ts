/**
 * GroupNorm (optionally fused with SiLU) and LayerNorm, forward and backward.
 *
 * Math (torch semantics, biased variance, statistics in f32):
 *   xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), y = xhat * gamma + beta [, silu(y)]
 *   da = dy [* silu'(a)], dgamma = sum da * xhat, dbeta = sum da,
 *   dx = rstd * (gamma da - mean(gamma da) - xhat * mean(gamma da * xhat)).
 * GroupNorm: mean/var over each (batch, group) of S * C/G elements; LayerNorm: over each row.
 * Statistics are two-pass (mean, then squared deviations) within a chunk, and chunks are merged
 * with Chan et al.'s parallel formula, so large offsets do not cancel.
 *
 * Layout: GroupNorm x is NHWC [B, H, W, C] or [B, N, C], read flat as [B, S, C] (S = H*W or N),
 * group g = channels [g*C/G, (g+1)*C/G). LayerNorm x is [..., D], read flat as [R, D].
 * gamma, beta: [C] / [D]. No reshapes: every kernel indexes flat buffers. Elementwise kernels
 * take four channels per invocation when C (D) % 4 == 0 (`*_vec4.wgsl`), else one.
 *
 * Programs (shaders/*.wgsl), all 64 invocations per workgroup, and the buffers each allocates
 * (P = ceil(rows / rowsPerChunk) chunks, rowsPerChunk >= 32, P <= 128):
 *  GroupNorm forward: group_norm_stats_partial -> vec2 [B, P, C] per-chunk channel (mean, M2);
 *    group_norm_stats -> vec2 [B*G] (mean, rstd); group_norm_stats_expand -> vec2 [B, C], the
 *    statistics per channel, kept for the backward pass; group_norm[_vec4] -> y [x.shape].
 *  GroupNorm backward: group_norm_grad_partial -> vec2 [B, P, C] (sum da, sum da xhat);
 *    group_norm_grad_coeffs -> vec2 [B*G]; group_norm_grad_table -> vec4 [B, C];
 *    group_norm_grad[_vec4] -> dx [x.shape]; group_norm_param_grad twice -> dgamma, dbeta [C];
 *    a zero gradient for the statistics input [B, C, 2].
 *  LayerNorm forward: layer_norm_stats (8 rows of 8 invocations per workgroup, 256 B workgroup
 *    memory) -> vec2 [R] (mean, rstd); layer_norm[_vec4] -> y [x.shape].
 *  LayerNorm backward: layer_norm_grad (as layer_norm_stats, 512 B) -> dx [x.shape];
 *    layer_norm_grad_partial -> vec2 [P, D]; group_norm_param_grad twice -> dgamma, dbeta [D];
 *    a zero gradient for the statistics input [R, 2].
 * Only y and dx have the input's size; every intermediate is per channel or per row.
 */
import * as tf from '../gpu/tf';
import groupNormStatsPartialSource from '../../shaders/group_norm_stats_partial.wgsl?raw';
import groupNormStatsSource from '../../shaders/group_norm_stats.wgsl?raw';
import groupNormStatsExpandSource from '../../shaders/group_norm_stats_expand.wgsl?raw';
import groupNormSource from '../../shaders/group_norm.wgsl?raw';
import groupNormVec4Source from '../../shaders/group_norm_vec4.wgsl?raw';
import groupNormGradPartialSource from '../../shaders/group_norm_grad_partial.wgsl?raw';
import groupNormGradCoeffsSource from '../../shaders/group_norm_grad_coeffs.wgsl?raw';
import groupNormGradTableSource from '../../shaders/group_norm_grad_table.wgsl?raw';
import groupNormGradSource from '../../shaders/group_norm_grad.wgsl?raw';
import groupNormGradVec4Source from '../../shaders/group_norm_grad_vec4.wgsl?raw';
import paramGradSource from '../../shaders/group_norm_param_grad.wgsl?raw';
import layerNormStatsSource from '../../shaders/layer_norm_stats.wgsl?raw';
import layerNormSource from '../../shaders/layer_norm.wgsl?raw';
import layerNormVec4Source from '../../shaders/layer_norm_vec4.wgsl?raw';
import layerNormGradSource from '../../shaders/layer_norm_grad.wgsl?raw';
import layerNormGradPartialSource from '../../shaders/layer_norm_grad_partial.wgsl?raw';
import { runKernel, withGradient, workgroupGrid, type KernelDef } from './kernel';

export interface GroupNormOptions {
  /** Number of groups G; must divide the channel count (SD: 32). */
  groups: number;
  /** SD: 1e-5 in the UNet resnets, 1e-6 in the transformers' GroupNorm and the VAE. */
  eps: number;
  /** Apply SiLU after the affine (ResnetBlock2D's norm + nonlinearity). */
  silu?: boolean;
}

export interface LayerNormOptions {
  eps: number;
}

/** Invocations per workgroup of every program here. */
const WG = 64;
/** LayerNorm: invocations per row in the row kernels (WG / LANES rows per workgroup). */
const LANES = 8;
/** Column partial sums (statistics, gradients): at least MIN_CHUNK_ROWS rows per chunk, at most MAX_CHUNKS chunks. */
const MIN_CHUNK_ROWS = 32;
const MAX_CHUNKS = 128;

const i32 = 'i32' as const;
const u32 = (value: number) => ({ type: 'u32' as const, value });
const bool = (value: boolean) => ({ type: 'bool' as const, value });

const GROUP_NORM_STATS_PARTIAL: KernelDef = {
  name: 'group_norm_stats_partial',
  source: groupNormStatsPartialSource,
  inputs: ['x'],
  uniforms: [['S', i32], ['C', i32], ['rowsPerChunk', i32], ['chunks', i32]],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1],
};

const GROUP_NORM_STATS: KernelDef = {
  name: 'group_norm_stats',
  source: groupNormStatsSource,
  inputs: ['partials'],
  uniforms: [['S', i32], ['C', i32], ['cpg', i32], ['groups', i32], ['rowsPerChunk', i32], ['chunks', i32], ['eps', 'f32']],
  outputComponent: 2,
};

const GROUP_NORM_STATS_EXPAND: KernelDef = {
  name: 'group_norm_stats_expand',
  source: groupNormStatsExpandSource,
  inputs: ['groupStats'],
  uniforms: [['C', i32], ['cpg', i32], ['groups', i32]],
  outputComponent: 2,
};

const GROUP_NORM: KernelDef = {
  name: 'group_norm',
  source: groupNormSource,
  inputs: ['x', 'stats', 'gamma', 'beta'],
  uniforms: [['n', i32], ['C', i32], ['batchStride', i32]],
  workgroupSize: [WG, 1, 1],
  inputComponents: [1, 2, 1, 1],
};

const GROUP_NORM_VEC4: KernelDef = {
  name: 'group_norm_vec4',
  source: groupNormVec4Source,
  inputs: ['x', 'stats', 'gamma', 'beta'],
  uniforms: [['n', i32], ['C4', i32], ['batchStride', i32]],
  outputComponent: 4,
  workgroupSize: [WG, 1, 1],
  inputComponents: [4, 4, 4, 4],
};

const GROUP_NORM_GRAD_PARTIAL: KernelDef = {
  name: 'group_norm_grad_partial',
  source: groupNormGradPartialSource,
  inputs: ['x', 'dy', 'stats', 'gamma', 'beta'],
  uniforms: [['S', i32], ['C', i32], ['rowsPerChunk', i32], ['chunks', i32]],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1, 1, 2, 1, 1],
};

const GROUP_NORM_GRAD_COEFFS: KernelDef = {
  name: 'group_norm_grad_coeffs',
  source: groupNormGradCoeffsSource,
  inputs: ['partials', 'gamma'],
  uniforms: [['C', i32], ['cpg', i32], ['groups', i32], ['chunks', i32], ['invCount', 'f32']],
  outputComponent: 2,
  inputComponents: [2, 1],
};

const GROUP_NORM_GRAD_TABLE: KernelDef = {
  name: 'group_norm_grad_table',
  source: groupNormGradTableSource,
  inputs: ['stats', 'coeffs', 'gamma'],
  uniforms: [['C', i32], ['cpg', i32], ['groups', i32]],
  outputComponent: 4,
  inputComponents: [2, 2, 1],
};

const GROUP_NORM_GRAD: KernelDef = {
  name: 'group_norm_grad',
  source: groupNormGradSource,
  inputs: ['x', 'dy', 'table', 'beta'],
  uniforms: [['n', i32], ['C', i32], ['batchStride', i32]],
  workgroupSize: [WG, 1, 1],
  inputComponents: [1, 1, 4, 1],
};

const GROUP_NORM_GRAD_VEC4: KernelDef = {
  name: 'group_norm_grad_vec4',
  source: groupNormGradVec4Source,
  inputs: ['x', 'dy', 'table', 'beta'],
  uniforms: [['n', i32], ['C4', i32], ['batchStride', i32]],
  outputComponent: 4,
  workgroupSize: [WG, 1, 1],
  inputComponents: [4, 4, 4, 4],
};

const PARAM_GRAD: KernelDef = {
  name: 'norm_param_grad',
  source: paramGradSource,
  inputs: ['partials'],
  uniforms: [['C', i32], ['rows', i32], ['component', i32]],
  inputComponents: [2],
};

const LAYER_NORM_STATS: KernelDef = {
  name: 'layer_norm_stats',
  source: layerNormStatsSource,
  inputs: ['x'],
  uniforms: [['R', i32], ['D', i32], ['eps', 'f32']],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1],
};

const LAYER_NORM: KernelDef = {
  name: 'layer_norm',
  source: layerNormSource,
  inputs: ['x', 'stats', 'gamma', 'beta'],
  uniforms: [['n', i32], ['D', i32]],
  workgroupSize: [WG, 1, 1],
  inputComponents: [1, 2, 1, 1],
};

const LAYER_NORM_VEC4: KernelDef = {
  name: 'layer_norm_vec4',
  source: layerNormVec4Source,
  inputs: ['x', 'stats', 'gamma', 'beta'],
  uniforms: [['n', i32], ['D4', i32]],
  outputComponent: 4,
  workgroupSize: [WG, 1, 1],
  inputComponents: [4, 2, 4, 4],
};

const LAYER_NORM_GRAD: KernelDef = {
  name: 'layer_norm_grad',
  source: layerNormGradSource,
  inputs: ['x', 'dy', 'stats', 'gamma'],
  uniforms: [['R', i32], ['D', i32]],
  workgroupSize: [WG, 1, 1],
  inputComponents: [1, 1, 2, 1],
};

const LAYER_NORM_GRAD_PARTIAL: KernelDef = {
  name: 'layer_norm_grad_partial',
  source: layerNormGradPartialSource,
  inputs: ['x', 'dy', 'stats'],
  uniforms: [['R', i32], ['D', i32], ['rowsPerChunk', i32]],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1, 1, 2],
};

/** Rows per chunk of the column partial sums over `rows` rows. */
function chunkRows(rows: number): number {
  return Math.max(MIN_CHUNK_ROWS, Math.ceil(rows / MAX_CHUNKS));
}

/** Sums vec2 partials [J, C] over J into dgamma (component 1) and dbeta (component 0). */
function paramGrads(partials: tf.Tensor, rows: number, channels: number): [tf.Tensor, tf.Tensor] {
  const run = (component: number) =>
    runKernel(PARAM_GRAD, { inputs: [partials], outputShape: [channels], uniforms: { C: channels, rows, component } });
  return [run(1), run(0)];
}

// ---------------------------------------------------------------------------------------------
// GroupNorm

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
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== C) throw new Error(`groupNorm: ${name} must be [${C}], got [${t.shape}].`);
  }
  return { B, S: x.size / (B * C), C, G: groups, cpg: C / groups };
}

/** (mean, rstd) of each channel's group as [B, C, 2]; not differentiable (an input of the op below). */
function groupNormStats(x: tf.Tensor, { B, S, C, G, cpg }: GroupDims, eps: number): tf.Tensor {
  const rowsPerChunk = chunkRows(S);
  const chunks = Math.ceil(S / rowsPerChunk);
  const partials = runKernel(GROUP_NORM_STATS_PARTIAL, {
    inputs: [x],
    outputShape: [B, chunks, C, 2],
    uniforms: { S, C, rowsPerChunk, chunks },
    constants: { WG: u32(WG) },
    dispatch: [Math.ceil(C / WG), chunks, B],
  });
  const groupStats = runKernel(GROUP_NORM_STATS, {
    inputs: [partials],
    outputShape: [B * G, 2],
    uniforms: { S, C, cpg, groups: G, rowsPerChunk, chunks, eps },
  });
  const stats = runKernel(GROUP_NORM_STATS_EXPAND, {
    inputs: [groupStats],
    outputShape: [B, C, 2],
    uniforms: { C, cpg, groups: G },
  });
  tf.dispose([partials, groupStats]);
  return stats;
}

type NormOp = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, stats: tf.Tensor) => tf.Tensor;

/** Launch of an elementwise kernel over x: four channels per invocation when C % 4 == 0. */
function elementwise(x: tf.Tensor, S: number, C: number) {
  const vec4 = C % 4 === 0;
  const n = vec4 ? x.size / 4 : x.size;
  const uniforms: Record<string, number> = vec4 ? { n, C4: C / 4, batchStride: (S * C) / 4 } : { n, C, batchStride: S * C };
  return { vec4, uniforms, dispatch: workgroupGrid(Math.ceil(n / WG)) };
}

function makeGroupNormOp(groups: number, silu: boolean): NormOp {
  const SILU = bool(silu);
  return withGradient<[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]>(
    (x, gamma, beta, stats) => {
      const { S, C } = groupDims(x, gamma, beta, groups);
      const { vec4, dispatch, uniforms } = elementwise(x, S, C);
      return runKernel(vec4 ? GROUP_NORM_VEC4 : GROUP_NORM, {
        inputs: [x, stats, gamma, beta],
        outputShape: x.shape,
        uniforms,
        constants: { SILU },
        dispatch,
      });
    },
    (dy, [x, gamma, beta, stats]) => {
      const { B, S, C, cpg } = groupDims(x, gamma, beta, groups);
      const rowsPerChunk = chunkRows(S);
      const chunks = Math.ceil(S / rowsPerChunk);
      const partials = runKernel(GROUP_NORM_GRAD_PARTIAL, {
        inputs: [x, dy, stats, gamma, beta],
        outputShape: [B, chunks, C, 2],
        uniforms: { S, C, rowsPerChunk, chunks },
        constants: { SILU, WG: u32(WG) },
        dispatch: [Math.ceil(C / WG), chunks, B],
      });
      const coeffs = runKernel(GROUP_NORM_GRAD_COEFFS, {
        inputs: [partials, gamma],
        outputShape: [B * groups, 2],
        uniforms: { C, cpg, groups, chunks, invCount: 1 / (S * cpg) },
      });
      const table = runKernel(GROUP_NORM_GRAD_TABLE, {
        inputs: [stats, coeffs, gamma],
        outputShape: [B, C, 4],
        uniforms: { C, cpg, groups },
      });
      const { vec4, dispatch, uniforms } = elementwise(x, S, C);
      const dx = runKernel(vec4 ? GROUP_NORM_GRAD_VEC4 : GROUP_NORM_GRAD, {
        inputs: [x, dy, table, beta],
        outputShape: x.shape,
        uniforms,
        constants: { SILU },
        dispatch,
      });
      const [dgamma, dbeta] = paramGrads(partials, B * chunks, C);
      tf.dispose([partials, coeffs, table]);
      return [dx, dgamma, dbeta, tf.zerosLike(stats)];
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

// ---------------------------------------------------------------------------------------------
// LayerNorm

function layerDims(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): { R: number; D: number } {
  if (x.rank < 1) throw new Error('layerNorm: x must have at least one dimension.');
  if (x.dtype !== 'float32') throw new Error(`layerNorm: x must be float32, got ${x.dtype}.`);
  const D = x.shape[x.rank - 1];
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== D) throw new Error(`layerNorm: ${name} must be [${D}], got [${t.shape}].`);
  }
  return { R: x.size / D, D };
}

const ROW_CONSTANTS = { WG: u32(WG), LANES: u32(LANES) };
const rowGrid = (R: number) => workgroupGrid(Math.ceil(R / (WG / LANES)));

const layerNormOp: NormOp = withGradient<[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]>(
  (x, gamma, beta, stats) => {
    const { D } = layerDims(x, gamma, beta);
    const vec4 = D % 4 === 0;
    const n = vec4 ? x.size / 4 : x.size;
    return runKernel(vec4 ? LAYER_NORM_VEC4 : LAYER_NORM, {
      inputs: [x, stats, gamma, beta],
      outputShape: x.shape,
      uniforms: vec4 ? { n, D4: D / 4 } : { n, D },
      dispatch: workgroupGrid(Math.ceil(n / WG)),
    });
  },
  (dy, [x, gamma, beta, stats]) => {
    const { R, D } = layerDims(x, gamma, beta);
    const dx = runKernel(LAYER_NORM_GRAD, {
      inputs: [x, dy, stats, gamma],
      outputShape: x.shape,
      uniforms: { R, D },
      constants: ROW_CONSTANTS,
      dispatch: rowGrid(R),
    });
    const rowsPerChunk = chunkRows(R);
    const chunks = Math.ceil(R / rowsPerChunk);
    const partials = runKernel(LAYER_NORM_GRAD_PARTIAL, {
      inputs: [x, dy, stats],
      outputShape: [chunks, D, 2],
      uniforms: { R, D, rowsPerChunk },
      constants: { WG: u32(WG) },
      dispatch: [Math.ceil(D / WG), chunks, 1],
    });
    const [dgamma, dbeta] = paramGrads(partials, chunks, D);
    partials.dispose();
    return [dx, dgamma, dbeta, tf.zerosLike(stats)];
  },
);

/** torch.nn.LayerNorm over the last dim; differentiable in x, gamma and beta. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, { eps }: LayerNormOptions): tf.Tensor {
  const { R, D } = layerDims(x, gamma, beta);
  const stats = runKernel(LAYER_NORM_STATS, {
    inputs: [x],
    outputShape: [R, 2],
    uniforms: { R, D, eps },
    constants: ROW_CONSTANTS,
    dispatch: rowGrid(R),
  });
  const y = layerNormOp(x, gamma, beta, stats);
  stats.dispose();
  return y;
}
