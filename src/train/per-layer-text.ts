/**
 * P+ text states (Voynov et al. 2023, "P+: Extended Textual Conditioning"): the prompt encoded
 * once per cross-attention layer, in one text-encoder call of L·B rows (layer-major: rows
 * [l·B, (l+1)·B) are layer l's prompts), and the UNet hooks that feed layer l its rows.
 */
import * as tf from '../gpu/tf';
import type { LayerTokenMap } from '../model/layer-tokens';
import type { CrossAttentionHooks } from '../model/unet';

/** ids [B, N] → [L·B, N]: block l has each mapped id replaced by its layer-l id. */
export function idsPerLayer(ids: tf.Tensor2D, map: LayerTokenMap, layers: number): tf.Tensor2D {
  return tf.tidy(() => {
    const blocks = Array.from({ length: layers }, (_, l) => {
      let out: tf.Tensor = ids;
      for (const [id, perLayer] of map) out = tf.where(tf.equal(ids, tf.scalar(id, 'int32')), tf.fill(ids.shape, perLayer[l], 'int32'), out);
      return out;
    });
    return tf.concat(blocks, 0) as tf.Tensor2D;
  });
}

/** Hooks giving attn2 layer l rows [l·B, (l+1)·B) of `states` [L·B, N, D]. */
export function layerContexts(states: tf.Tensor3D, batch: number): CrossAttentionHooks {
  return { context: (l) => states.slice([l * batch, 0, 0], [batch, -1, -1]) };
}
