/**
 * What GroupNorm (`group-norm.ts`) and LayerNorm (`layer-norm.ts`) share: the workgroup size,
 * the chunking of column partial sums, and the gamma/beta gradient reduction.
 *
 * Column partial sums (statistics, gradients) cut the rows into P chunks of rowsPerChunk rows,
 * rowsPerChunk >= 32 and P <= 128, and write one vec2 per (chunk, channel).
 * group_norm_param_grad (twice) sums vec2 partials [J, C] over J into dgamma and dbeta [C].
 */
import * as tf from '../gpu/tf';
import paramGradSource from '../../shaders/group_norm_param_grad.wgsl?raw';
import { runKernel, withGradient, type Constant, type KernelDef } from './kernel';

/** Invocations per workgroup of every norm program. */
export const WG = 64;
/** Column partial sums: at least MIN_CHUNK_ROWS rows per chunk, at most MAX_CHUNKS chunks. */
const MIN_CHUNK_ROWS = 32;
const MAX_CHUNKS = 128;

export const i32 = 'i32' as const;
export const u32 = (value: number): Constant => ({ type: 'u32', value });

/** Rows per chunk and chunk count of the column partial sums over `rows` rows. */
export function chunking(rows: number): { rowsPerChunk: number; chunks: number } {
  const rowsPerChunk = Math.max(MIN_CHUNK_ROWS, Math.ceil(rows / MAX_CHUNKS));
  return { rowsPerChunk, chunks: Math.ceil(rows / rowsPerChunk) };
}

const PARAM_GRAD: KernelDef = {
  name: 'norm_param_grad',
  source: paramGradSource,
  inputs: ['partials'],
  uniforms: [['C', i32], ['rows', i32], ['component', i32]],
  inputComponents: [2],
};

/** Sums vec2 partials [J, C] over J into dgamma (component 1) and dbeta (component 0). */
export function paramGrads(partials: tf.Tensor, rows: number, channels: number): [tf.Tensor, tf.Tensor] {
  const run = (component: number) =>
    runKernel(PARAM_GRAD, { inputs: [partials], outputShape: [channels], uniforms: { C: channels, rows, component } });
  return [run(1), run(0)];
}

/** A norm as an op of (x, gamma, beta, statistics); differentiable in the first three. */
export type NormOp = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, stats: tf.Tensor) => tf.Tensor;

/** `withGradient` for a NormOp: the statistics input gets a zero gradient. */
export function normOp(
  forward: NormOp,
  backward: (dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, stats: tf.Tensor) => [tf.Tensor, tf.Tensor, tf.Tensor],
): NormOp {
  return withGradient<[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]>(forward, (dy, [x, gamma, beta, stats]) => [
    ...backward(dy, x, gamma, beta, stats),
    tf.zerosLike(stats),
  ]);
}

/** Checks that gamma and beta are [channels], naming the op in the error. */
export function checkAffine(op: string, gamma: tf.Tensor, beta: tf.Tensor, channels: number): void {
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== channels) throw new Error(`${op}: ${name} must be [${channels}], got [${t.shape}].`);
  }
}
