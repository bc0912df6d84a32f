/**
 * Perfusion on every cross-attention layer: the UNet hook (`CrossAttentionHooks.keysValues`) that
 * replaces each attn2's K and V with the gated rank-1 edit of `rank-one-edit.ts`, for one or
 * several concepts at once (all their inputs projected out together; each concept its own gate).
 */
import type * as tf from '../gpu/tf';
import type { CrossAttentionHooks } from '../model/unet';
import type { EditInputs } from './perfusion-inputs';
import { conceptSimilarity, editedProjection, gateOf, projectOut, type Gate } from './rank-one-edit';

/** One concept's per-layer targets, by attn2 module path: locked keys o_K = W_k i_super, values v* (learned). */
export interface PerfusionTargets {
  keys: ReadonlyMap<string, tf.Tensor1D>;
  values: ReadonlyMap<string, tf.Tensor1D>;
  /** Its gate (the bias is generation's knob). */
  gate: Gate;
}

/** The hook for `concepts` (in the order of `inputs.concepts`); the caller keeps and disposes every tensor. */
export function perfusionHooks(inputs: EditInputs, concepts: readonly PerfusionTargets[]): CrossAttentionHooks {
  if (concepts.length !== inputs.concepts.length) throw new Error(`perfusion: ${concepts.length} concepts' targets for ${inputs.concepts.length} inputs.`);
  const target = (c: PerfusionTargets, which: 'keys' | 'values', path: string) => {
    const t = c[which].get(path);
    if (!t) throw new Error(`perfusion: no ${which === 'keys' ? 'key' : 'value'} target for ${path}.`);
    return t;
  };
  return {
    keysValues(path, context, project) {
      const gates = inputs.concepts.map((c, i) => gateOf(conceptSimilarity(context, c), concepts[i].gate));
      const ePerp = projectOut(context, inputs.basis);
      return {
        keys: editedProjection(project.key, ePerp, gates, concepts.map((c) => target(c, 'keys', path))),
        values: editedProjection(project.value, ePerp, gates, concepts.map((c) => target(c, 'values', path))),
      };
    },
    variables(module) {
      const prefix = `${module}.`;
      return concepts.flatMap((c) => [...c.values].filter(([path, t]) => path.startsWith(prefix) && isVariable(t)).map(([, t]) => t as tf.Variable));
    },
  };
}

function isVariable(t: tf.Tensor): t is tf.Variable {
  return typeof (t as tf.Variable).assign === 'function';
}
