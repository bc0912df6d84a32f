/**
 * GroupNorm and LayerNorm as plain composed tfjs ops: the reference for tests and the baseline
 * for benchmarks. Mean and biased variance are spelled out: tf.moments' gradient fails in tfjs
 * 4.22 (its float32 -> float32 cast reaches Cast's gradient with a null dy).
 */
import * as tf from '../gpu/tf';
import type { GroupNormOptions } from './group-norm';
import type { LayerNormOptions } from './layer-norm';

/** Mean and biased variance over `axes`, kept as size-1 dims (two-pass, like torch). */
function moments(x: tf.Tensor, axes: number[]): { mean: tf.Tensor; variance: tf.Tensor } {
  const mean = tf.mean(x, axes, true);
  return { mean, variance: tf.mean(tf.square(tf.sub(x, mean)), axes, true) };
}

export function groupNormComposed(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, { groups, eps, silu = false }: GroupNormOptions): tf.Tensor {
  return tf.tidy(() => {
    const B = x.shape[0];
    const C = x.shape[x.rank - 1];
    const grouped = tf.reshape(x, [B, -1, groups, C / groups]);
    const { mean, variance } = moments(grouped, [1, 3]);
    const xhat = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, eps)));
    const y = tf.add(tf.mul(tf.reshape(xhat, x.shape), gamma), beta);
    return silu ? tf.mul(y, tf.sigmoid(y)) : y;
  });
}

export function layerNormComposed(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, { eps }: LayerNormOptions): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = moments(x, [x.rank - 1]);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xhat, gamma), beta);
  });
}
