/**
 * Perfusion's statistics of a model's text encodings (Tewel et al. 2023; ChenDarYen's
 * data/estimate_C_inv.py): the uncentered covariance C = (1/N) Σ_prompts Σ_{n<77} e_n e_nᵀ over
 * every position of each padded prompt (BOS, words, EOS and the padding after it: the inputs
 * W_k and W_v see), each batch's Eᵀ E on the GPU in float32, accumulated and inverted in float64.
 */
import * as tf from '../gpu/tf';
import { clipTextEncoder } from '../model/clip';
import type { StableDiffusionModel } from '../model/load';
import { symmetricPositiveInverse } from './float64-matrix';

const BATCH = 32;

/** What turns a prompt into its padded ids (the model's tokenizer). */
export interface PaddedTokenizer {
  encode(prompt: string): { ids: number[] };
}

/** C [D × D], row-major float64, from `prompts` (the shipped COVARIANCE_PROMPTS). */
export async function textCovariance(model: StableDiffusionModel, tokenizer: PaddedTokenizer, prompts: readonly string[], signal?: AbortSignal): Promise<Float64Array> {
  const d = model.text.config.hiddenSize;
  const c = new Float64Array(d * d);
  for (let start = 0; start < prompts.length; start += BATCH) {
    signal?.throwIfAborted();
    const rows = prompts.slice(start, start + BATCH).map((p) => tokenizer.encode(p).ids);
    const gram = tf.tidy(() => {
      const ids = tf.tensor2d(rows.flat(), [rows.length, rows[0].length], 'int32');
      const e = clipTextEncoder(model.text.weights, model.text.config, ids).lastHiddenState.reshape([-1, d]) as tf.Tensor2D;
      return tf.matMul(e, e, true, false);
    });
    const part = await gram.data();
    gram.dispose();
    for (let i = 0; i < c.length; i++) c[i] += part[i];
  }
  for (let i = 0; i < c.length; i++) c[i] /= prompts.length;
  return c;
}

/** C⁻¹ in float64 (symmetrised), cast to float32: what every edit reads (ChenDarYen loads C_inv.npy with `.float()`). */
export function covarianceInverse(c: Float64Array): Float32Array {
  const n = Math.round(Math.sqrt(c.length));
  return Float32Array.from(symmetricPositiveInverse(c, n));
}
