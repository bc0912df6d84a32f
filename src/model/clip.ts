/**
 * CLIP text encoder (transformers CLIPTextModel), the SD 1.x/2.x prompt encoder.
 * Keys: embeddings.{token,position}_embedding.weight,
 * encoder.layers.{i}.{layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2},
 * final_layer_norm (transformers < 5 prefixes them with `text_model.`: see renameClipKey). Causal self-attention through the fused kernel; no padding mask
 * (the SD pipelines pass input ids only).
 */
import * as tf from '../gpu/tf';
import { quickGelu } from '../kernels/activations';
import { attention } from '../kernels/attention';
import { layerNorm } from '../kernels/layer-norm';
import type { ClipTextConfig } from './config';
import type { Weights } from './weights';

export interface ClipTextOutput {
  /** After the final layer norm: [B, N, D]. */
  lastHiddenState: tf.Tensor3D;
  /** lastHiddenState at each row's first eos token: [B, D]. */
  pooled: tf.Tensor2D;
  /** With `outputHiddenStates`: embeddings, then each layer's output (before the final norm). */
  hiddenStates?: tf.Tensor3D[];
}

export interface ClipTextOptions {
  outputHiddenStates?: boolean;
  /**
   * Token embeddings for `ids` [B, N, D]; default: rows of the embedding table. Textual
   * inversion passes a lookup that takes its trainable rows from elsewhere.
   */
  embedTokens?: (ids: tf.Tensor2D) => tf.Tensor3D;
}

/** transformers < 5 (and every SD 1.x repo) saves CLIPTextModel keys under `text_model.`. */
export function renameClipKey(key: string): string {
  return key.startsWith('text_model.') ? key.slice('text_model.'.length) : key;
}

function ln(w: Weights, prefix: string, x: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  return layerNorm(x, w.tensor(`${prefix}.weight`, [d]), w.tensor(`${prefix}.bias`, [d]), { eps });
}

/** The embedding-table lookup CLIP does by default. */
export function clipTokenEmbeddings(w: Weights, config: ClipTextConfig, ids: tf.Tensor2D): tf.Tensor3D {
  return w.rowTable('embeddings.token_embedding.weight', [config.vocabSize, config.hiddenSize]).gather(ids) as tf.Tensor3D;
}

export function clipTextEncoder(w: Weights, config: ClipTextConfig, ids: tf.Tensor2D, options: ClipTextOptions = {}): ClipTextOutput {
  const { hiddenSize: D, numAttentionHeads: heads, layerNormEps: eps } = config;
  const [B, N] = ids.shape;
  if (N > config.maxPositionEmbeddings) throw new Error(`text_encoder: ${N} tokens exceed max_position_embeddings ${config.maxPositionEmbeddings}.`);
  const hiddenStates: tf.Tensor3D[] = [];
  const out = tf.tidy(() => {
    const tokens = options.embedTokens ? options.embedTokens(ids) : clipTokenEmbeddings(w, config, ids);
    const positions = w.tensor('embeddings.position_embedding.weight', [config.maxPositionEmbeddings, D]).slice([0, 0], [N, D]);
    let h = tf.add(tokens, positions) as tf.Tensor3D;
    if (options.outputHiddenStates) hiddenStates.push(tf.keep(h));
    for (let i = 0; i < config.numHiddenLayers; i++) {
      const p = `encoder.layers.${i}`;
      const x = ln(w, `${p}.layer_norm1`, h, eps);
      const q = w.linear(`${p}.self_attn.q_proj`, x, D);
      const k = w.linear(`${p}.self_attn.k_proj`, x, D);
      const v = w.linear(`${p}.self_attn.v_proj`, x, D);
      const a = attention(q, k, v, { numHeads: heads, causal: true });
      h = tf.add(h, w.linear(`${p}.self_attn.out_proj`, a, D)) as tf.Tensor3D;
      const y = ln(w, `${p}.layer_norm2`, h, eps);
      const f = w.linear(`${p}.mlp.fc1`, y, config.intermediateSize);
      const act = config.hiddenAct === 'quick_gelu' ? quickGelu(f) : tf.mul(tf.mul(f, 0.5), tf.add(1, tf.erf(tf.mul(f, Math.SQRT1_2))));
      h = tf.add(h, w.linear(`${p}.mlp.fc2`, act, D)) as tf.Tensor3D;
      if (options.outputHiddenStates) hiddenStates.push(tf.keep(h));
    }
    const last = ln(w, 'final_layer_norm', h, eps) as tf.Tensor3D;
    return { last, pooled: pool(last, ids, config.eosTokenId, B, N) };
  });
  return { lastHiddenState: out.last, pooled: out.pooled, hiddenStates: options.outputHiddenStates ? hiddenStates : undefined };
}

/** transformers' pooling: the first eos position (legacy configs with eos_token_id 2: argmax id). */
function pool(last: tf.Tensor3D, ids: tf.Tensor2D, eosTokenId: number, B: number, N: number): tf.Tensor2D {
  // The first position holding eos (legacy configs with eos_token_id 2: the largest id), as a
  // min over positions: argMax does not promise the first of tied maxima on every backend.
  const target = eosTokenId === 2 ? tf.max(ids, 1, true) : tf.scalar(eosTokenId, 'int32');
  const index = tf.range(0, N, 1, 'int32').reshape([1, N]);
  const positions = tf.min(tf.where(tf.equal(ids, target), index, tf.fill([B, N], N, 'int32')), 1);
  const flat = tf.add(positions, tf.mul(tf.range(0, B, 1, 'int32'), tf.scalar(N, 'int32')));
  return tf.gather(last.reshape([B * N, -1]), flat) as tf.Tensor2D;
}
