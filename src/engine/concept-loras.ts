/**
 * Library concepts' LoRAs on the model for one generation. UNet layers go on the UNet at the
 * concept's `loraStrength`, text-encoder layers on the text encoder at `textEncoderStrength ??
 * loraStrength`; a strength of 0 skips that component's layers. Concepts adapting one module are
 * stacked along the rank, each layer's up scaled by alpha / rank · strength, so one adapter per
 * module carries them all; conv downs go from PyTorch's [r, in, kh, kw] to the adapter's
 * [kh, kw, in, r] (see LowRankAdapter). Every layer is checked before anything reaches the GPU:
 * a concept that does not fit (no such module, other shapes, another kernel) is refused.
 */
import * as tf from '../gpu/tf';
import type { ConceptLoraLayer, ConceptWeights } from '../library/concept';
import type { StableDiffusionModel } from '../model/load';
import type { Weights } from '../model/weights';
import { textEncoderModules, unetModules, type LoraComponent } from '../train/formats/lora-modules';
import { conceptRefused } from './concept-refused';
import { concatRows } from '../common/concat-rows';

/** One module's layers from every concept: downs [r, in(, kh, kw)], ups [out, r] already scaled. */
interface Stack {
  downs: Float32Array[];
  ups: Float32Array[];
  ranks: number[];
  /** The module's weight, PyTorch layout: [out, in] or [out, in, kh, kw]. */
  weight: number[];
}

/** Where each component's layers go, and the modules a LoRA may adapt there. */
interface Target {
  weights: Weights;
  modules: Map<string, number[]>;
  /** For messages. */
  name: string;
}

/** Attaches every concept's LoRA layers; returns what takes them all off and frees their tensors. */
export function attachConceptLoras(model: StableDiffusionModel, concepts: readonly ConceptWeights[]): () => void {
  const targets: Record<LoraComponent, Target> = {
    unet: { weights: model.unet.weights, modules: unetModules(model.unet.config), name: 'this model' },
    text_encoder: { weights: model.text.weights, modules: textEncoderModules(model.text.config), name: "this model's text encoder" },
  };
  const stacks: Record<LoraComponent, Map<string, Stack>> = { unet: new Map(), text_encoder: new Map() };
  for (const c of concepts) {
    for (const l of c.lora?.layers ?? []) {
      const component = l.component ?? 'unet';
      const target = targets[component];
      if (!target) throw conceptRefused(`${c.token}: its LoRA names a component '${component}' this studio does not know.`);
      const strength = component === 'text_encoder' ? (c.textEncoderStrength ?? c.loraStrength) : c.loraStrength;
      if (strength === 0) continue;
      const weight = checkLayer(c.token, target, l);
      const r = l.upShape[1];
      const scale = (l.alpha / r) * strength;
      const s = stacks[component].get(l.prefix) ?? { downs: [], ups: [], ranks: [], weight };
      s.downs.push(l.down);
      s.ups.push(l.up.map((v) => v * scale));
      s.ranks.push(r);
      stacks[component].set(l.prefix, s);
    }
  }
  for (const t of Object.values(targets)) if (t.weights.adapterPrefixes().length > 0) throw new Error(`attachConceptLoras: ${t.weights.model} already has adapters attached.`);

  const tensors: tf.Tensor[] = [];
  const detach = () => {
    for (const component of Object.keys(stacks) as LoraComponent[]) for (const prefix of stacks[component].keys()) targets[component].weights.setAdapter(prefix, null);
    tf.dispose(tensors);
  };
  try {
    for (const component of Object.keys(stacks) as LoraComponent[]) {
      for (const [prefix, s] of stacks[component]) {
        const down = stackedDown(s);
        tensors.push(down);
        const up = tf.tidy(() => tf.concat(s.ups.map((u, i) => tf.tensor2d(u, [s.weight[0], s.ranks[i]])), 1) as tf.Tensor2D);
        tensors.push(up);
        targets[component].weights.setAdapter(prefix, { down, up, scale: 1 });
      }
    }
  } catch (error) {
    detach();
    throw error;
  }
  return detach;
}

/** [Σr, in] for a linear; for a conv [Σr, in, kh, kw] (rank outermost, so rows concatenate) turned [kh, kw, in, Σr]. */
function stackedDown(s: Stack): tf.Tensor2D | tf.Tensor4D {
  const rank = s.ranks.reduce((a, b) => a + b, 0);
  const values = concatRows(s.downs);
  if (s.weight.length === 2) return tf.tensor2d(values, [rank, s.weight[1]]);
  const [, inC, kh, kw] = s.weight;
  return tf.tidy(() => tf.transpose(tf.tensor4d(values, [rank, inC, kh, kw]), [2, 3, 1, 0]) as tf.Tensor4D);
}

/** A linear counts as a 1×1 kernel: a [r, in] down fits a 1×1 conv, a [r, in, 1, 1] one a linear (the same values). */
function kernelOf(shape: readonly number[]): [number, number] {
  return shape.length === 4 ? [shape[2], shape[3]] : [1, 1];
}

/** The module's weight shape (PyTorch layout) when `l` fits it; refuses the concept otherwise. */
function checkLayer(token: string, target: Target, l: ConceptLoraLayer): number[] {
  const key = `${l.prefix}.weight`;
  if (!target.modules.has(l.prefix) || !target.weights.has(key)) throw conceptRefused(`${token}: ${target.name} has no layer '${l.prefix}' for its LoRA (made for another base model?).`);
  const w = target.weights.shape(key);
  const d = l.downShape;
  const [out, r] = l.upShape;
  if ((d.length !== 2 && d.length !== 4) || d[0] !== r || d[1] !== w[1] || out !== w[0]) {
    throw conceptRefused(`${token}: LoRA '${l.prefix}' is [${l.upShape.join(', ')}]·[${d.join(', ')}], the layer is [${w.join(', ')}].`);
  }
  const [kh, kw] = kernelOf(d);
  const [wh, ww] = kernelOf(w);
  if (kh !== wh || kw !== ww) throw conceptRefused(`${token}: LoRA '${l.prefix}' has a ${kh}×${kw} down, the layer's kernel is ${wh}×${ww}.`);
  if (l.down.length !== tf.util.sizeFromShape(d) || l.up.length !== out * r) {
    throw conceptRefused(`${token}: LoRA '${l.prefix}' holds ${l.down.length} + ${l.up.length} values, not the [${d.join(', ')}] + [${out}, ${r}] its shapes say.`);
  }
  return w;
}
