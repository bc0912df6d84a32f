/** AdamW as plain composed tfjs ops: the reference for tests and the baseline for benchmarks. */
import * as tf from '../gpu/tf';
import type { AdamWConfig } from './adamw';

export function adamwStepComposed(
  param: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  t: number,
  { learningRate: lr, beta1, beta2, epsilon, weightDecay }: AdamWConfig,
): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  return tf.tidy(() => {
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
    const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(1 - beta2 ** t)), epsilon);
    const update = tf.mul(tf.div(m1, denom), lr / (1 - beta1 ** t));
    const p1 = tf.sub(tf.mul(param, 1 - lr * weightDecay), update);
    return { param: p1, m: m1, v: v1 };
  });
}
