/**
 * LayerNorm over the last dim, forward and backward.
 *
 * Math (torch semantics, biased variance, statistics in f32):
 *   xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), y = xhat * gamma + beta,
 *   dgamma = sum dy * xhat, dbeta = sum dy, dx = rstd * (gamma dy - mean(gamma dy) - xhat * mean(gamma dy * xhat)).
 * mean/var over each row, two-pass (mean, then squared deviations), so large offsets do not cancel.
 *
 * Layout: x is [..., D], read flat as [R, D]; gamma, beta: [D]. No reshapes: every kernel indexes
 * flat buffers. The elementwise forward takes four channels per invocation when D % 4 == 0.
 *
 * Programs (shaders/*.wgsl), 64 invocations per workgroup, and the buffers each allocates
 * (P chunks of rows, see norm-shared.ts):
 *  forward: layer_norm_stats (8 rows of 8 invocations per workgroup, 256 B workgroup memory)
 *    -> vec2 [R] (mean, rstd); layer_norm (as `layer_norm` or `layer_norm_vec4`) -> y [x.shape].
 *  backward: layer_norm_grad (as layer_norm_stats, 512 B) -> dx [x.shape];
 *    layer_norm_grad_partial -> vec2 [P, D]; group_norm_param_grad twice -> dgamma, dbeta [D];
 *    a zero gradient for the statistics input [R, 2].
 * The row kernels share their row layout and reduction, shaders/lib/row_lanes.wgsl.
 * Only y and dx have the input's size; every intermediate is per channel or per row.
 */
import * as tf from '../gpu/tf';
import statsSource from '../../shaders/layer_norm_stats.wgsl?raw';
import forwardSource from '../../shaders/layer_norm.wgsl?raw';
import gradSource from '../../shaders/layer_norm_grad.wgsl?raw';
import gradPartialSource from '../../shaders/layer_norm_grad_partial.wgsl?raw';
import rowLanesLib from '../../shaders/lib/row_lanes.wgsl?raw';
import { runKernel, workgroupGrid, type KernelDef } from './kernel';
import { WG, checkAffine, chunking, i32, normOp, paramGrads, u32 } from './norm-shared';

export interface LayerNormOptions {
  eps: number;
}

/** Invocations per row in the row kernels (WG / LANES rows per workgroup). */
const LANES = 8;

const STATS: KernelDef = {
  name: 'layer_norm_stats',
  source: statsSource,
  inputs: ['x'],
  uniforms: [['R', i32], ['D', i32], ['eps', 'f32']],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1],
  includes: [rowLanesLib],
};

/** One program text at both widths: x, gamma, beta and the result bound as f32 or as vec4. */
const forwardDef = (name: string, width: 1 | 4): KernelDef => ({
  name,
  source: forwardSource,
  inputs: ['x', 'stats', 'gamma', 'beta'],
  uniforms: [['n', i32], ['rowLength', i32]],
  outputComponent: width,
  workgroupSize: [WG, 1, 1],
  inputComponents: [width, 2, width, width],
});
const FORWARD = forwardDef('layer_norm', 1);
const FORWARD_VEC4 = forwardDef('layer_norm_vec4', 4);

const GRAD: KernelDef = {
  name: 'layer_norm_grad',
  source: gradSource,
  inputs: ['x', 'dy', 'stats', 'gamma'],
  uniforms: [['R', i32], ['D', i32]],
  workgroupSize: [WG, 1, 1],
  inputComponents: [1, 1, 2, 1],
  includes: [rowLanesLib],
};

const GRAD_PARTIAL: KernelDef = {
  name: 'layer_norm_grad_partial',
  source: gradPartialSource,
  inputs: ['x', 'dy', 'stats'],
  uniforms: [['R', i32], ['D', i32], ['rowsPerChunk', i32]],
  workgroupSize: [WG, 1, 1],
  outputComponent: 2,
  inputComponents: [1, 1, 2],
};

function layerDims(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): { R: number; D: number } {
  if (x.rank < 1) throw new Error('layerNorm: x must have at least one dimension.');
  if (x.dtype !== 'float32') throw new Error(`layerNorm: x must be float32, got ${x.dtype}.`);
  const D = x.shape[x.rank - 1];
  checkAffine('layerNorm', gamma, beta, D);
  return { R: x.size / D, D };
}

const ROW_CONSTANTS = { WG: u32(WG), LANES: u32(LANES) };
const rowGrid = (R: number) => workgroupGrid(Math.ceil(R / (WG / LANES)));

const layerNormOp = normOp(
  (x, gamma, beta, stats) => {
    const { D } = layerDims(x, gamma, beta);
    const vec4 = D % 4 === 0;
    const n = vec4 ? x.size / 4 : x.size;
    return runKernel(vec4 ? FORWARD_VEC4 : FORWARD, {
      inputs: [x, stats, gamma, beta],
      outputShape: x.shape,
      uniforms: { n, rowLength: vec4 ? D / 4 : D },
      dispatch: workgroupGrid(Math.ceil(n / WG)),
    });
  },
  (dy, x, gamma, beta, stats) => {
    const { R, D } = layerDims(x, gamma, beta);
    const dx = runKernel(GRAD, {
      inputs: [x, dy, stats, gamma],
      outputShape: x.shape,
      uniforms: { R, D },
      constants: ROW_CONSTANTS,
      dispatch: rowGrid(R),
    });
    const { rowsPerChunk, chunks } = chunking(R);
    const partials = runKernel(GRAD_PARTIAL, {
      inputs: [x, dy, stats],
      outputShape: [chunks, D, 2],
      uniforms: { R, D, rowsPerChunk },
      constants: { WG: u32(WG) },
      dispatch: [Math.ceil(D / WG), chunks, 1],
    });
    const [dgamma, dbeta] = paramGrads(partials, chunks, D);
    partials.dispose();
    return [dx, dgamma, dbeta];
  },
);

/** torch.nn.LayerNorm over the last dim; differentiable in x, gamma and beta. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, { eps }: LayerNormOptions): tf.Tensor {
  const { R, D } = layerDims(x, gamma, beta);
  const stats = runKernel(STATS, {
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
