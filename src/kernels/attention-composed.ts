/**
 * Scaled-dot-product attention as plain composed tfjs ops (materialises the [B, H, Nq, Nk]
 * scores). Production path for heads wider than the fused kernel takes (`attention` calls it
 * in query blocks for d > MAX_HEAD_DIM); also the independent reference for the fused kernel's
 * tests and the baseline of its benchmarks. Layout as in attention.ts: q [B, Nq, H·d], k and v
 * [B, Nk, H·d], out [B, Nq, H·d].
 */
import * as tf from '../gpu/tf';

export interface AttentionOptions {
  numHeads: number;
  /** Mask keys after the query's own position (j > i). */
  causal?: boolean;
  /** Multiplies Q·Kᵀ; default 1/sqrt(d). */
  scale?: number;
}

/** [B, N, H·d] -> [B, H, N, d] */
function splitHeads(x: tf.Tensor, numHeads: number): tf.Tensor4D {
  const [b, n, hd] = x.shape;
  return tf.transpose(tf.reshape(x, [b, n, numHeads, hd / numHeads]), [0, 2, 1, 3]);
}

export function attentionComposed(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions): tf.Tensor {
  const { numHeads, causal = false } = options;
  return tf.tidy(() => {
    const [b, nq, hd] = q.shape;
    const nk = k.shape[1] as number;
    const scale = options.scale ?? 1 / Math.sqrt(hd / numHeads);
    let scores = tf.mul(tf.matMul(splitHeads(q, numHeads), splitHeads(k, numHeads), false, true), scale);
    if (causal) {
      // Key j is visible from query i when j <= i (top-left aligned, as torch's is_causal).
      const hidden = tf.greater(tf.reshape(tf.range(0, nk), [1, nk]), tf.reshape(tf.range(0, nq), [nq, 1]));
      scores = tf.add(scores, tf.mul(tf.cast(hidden, 'float32'), -1e9));
    }
    const out = tf.matMul(tf.softmax(scores), splitHeads(v, numHeads)); // [B, H, Nq, d]
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, nq, hd]);
  });
}
