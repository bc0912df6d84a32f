/**
 * Library Perfusion concepts on the UNet for one generation: their stored edits (per attn2 the
 * locked key o_K and the value v*, i* and C⁻¹ i*) as the `keysValues` hook, several at once
 * (one C⁻¹-orthonormal basis of all their i*), each at its own gate bias.
 */
import * as tf from '../gpu/tf';
import type { ConceptWeights } from '../library/concept';
import { crossAttentionLayerList } from '../model/cross-attention';
import type { UNetConfig } from '../model/config';
import type { CrossAttentionHooks } from '../model/unet';
import { disposeEditInputs, editInputsOf } from '../train/perfusion-inputs';
import { perfusionHooks } from '../train/perfusion-hooks';
import { conceptRefused } from './concept-refused';

export interface PerfusionEdits {
  hooks: CrossAttentionHooks;
  dispose(): void;
}

/** The hook for `concepts`' edits on a UNet of `config` with text width `dim`; null when none is a Perfusion concept. */
export function perfusionEdits(config: UNetConfig, dim: number, concepts: readonly ConceptWeights[]): PerfusionEdits | null {
  const edited = concepts.filter((c) => c.perfusion);
  if (edited.length === 0) return null;
  const layers = crossAttentionLayerList(config);
  for (const c of edited) {
    const p = c.perfusion!;
    if (p.layers.length !== layers.length || p.layers.some((path, l) => path !== layers[l].path || p.widths[l] !== layers[l].channels)) {
      throw conceptRefused(`${c.token}: its Perfusion edit is for other cross-attention layers than this model's ${layers.length}.`);
    }
    if (p.iStar.length !== dim || p.cInvIStar.length !== dim) throw conceptRefused(`${c.token}: its Perfusion inputs are ${p.iStar.length} wide, this model's text encoder is ${dim} wide.`);
  }
  let inputs;
  try {
    inputs = editInputsOf(edited.map((c) => c.perfusion!));
  } catch (error) {
    throw conceptRefused(`${edited.map((c) => c.token).join(' and ')}: ${(error as Error).message}`);
  }
  const made: tf.Tensor[] = [];
  const targets = edited.map((c) => {
    const p = c.perfusion!;
    const rows = (all: Float32Array) => {
      let at = 0;
      return new Map(
        layers.map((l) => {
          const t = tf.tensor1d(all.subarray(at, at + l.channels));
          at += l.channels;
          made.push(t);
          return [l.path, t] as const;
        }),
      );
    };
    return { keys: rows(p.keys), values: rows(p.values), gate: { beta: p.gateBias, tau: p.gateTemperature } };
  });
  return {
    hooks: perfusionHooks(inputs, targets),
    dispose: () => {
      disposeEditInputs(inputs);
      tf.dispose(made);
    },
  };
}
