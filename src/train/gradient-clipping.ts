/**
 * Gradient clipping as torch.nn.utils.clip_grad_norm_ does it: the global L2 norm over all
 * trained tensors, every gradient times min(1, max / (norm + 1e-6)). The squared norm is one
 * reduction on the GPU, read back with the loss: it is also the step's finiteness check.
 */
import * as tf from '../gpu/tf';

/** torch's guard against a zero norm. */
const EPS = 1e-6;

/**
 * [loss, sum of squares of every gradient] as one tensor, to read back once. The sums are added
 * in a chain, not `addN`: a run has more gradients than a shader may bind buffers (8 on some GPUs).
 */
export function lossAndSquaredNorm(loss: tf.Scalar, grads: readonly tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const squared = grads.map((g) => tf.sum(tf.square(g))).reduce((sum, s) => tf.add(sum, s));
    return tf.stack([loss, squared]) as tf.Tensor1D;
  });
}

/** The factor the gradients are scaled by: min(1, max / (norm + 1e-6)); 1 with no max. */
export function clipFactor(norm: number, maxNorm: number | null): number {
  return maxNorm === null ? 1 : Math.min(1, maxNorm / (norm + EPS));
}

/** The gradients clipped by `factor`: new tensors, or the same ones when it is 1 (untouched). */
export function clipGradients(grads: readonly tf.Tensor[], factor: number): tf.Tensor[] {
  if (factor >= 1) return [...grads];
  return grads.map((g) => tf.tidy(() => tf.mul(g, tf.scalar(factor))));
}
