/**
 * References for LoRA checks: a component's weights loaded again from the fixture with ΔW added
 * to chosen weights (the "merged" model a LoRA should act like), ΔW of a concept's layer, and
 * seeded layers.
 */
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { randomNormal } from '../common/random';
import type { ConceptLoraLayer } from '../library/concept';
import { renameClipKey } from '../model/clip';
import { SafetensorsFile } from '../model/safetensors-reader';
import { readAsFloat32, type TensorSource } from '../model/tensor-source';
import { Weights } from '../model/weights';
import { TINY_SD } from './model-fixtures';

const FILES = { text_encoder: 'text_encoder/model.safetensors', unet: 'unet/diffusion_pytorch_model.safetensors' } as const;

/**
 * The tiny fixture's `component` with `deltas` (PyTorch layout, by weight key) added to those
 * weights, which are then stored F32 (the others as the fixture stores them).
 */
export async function mergedWeights(component: keyof typeof FILES, deltas: ReadonlyMap<string, Float32Array>): Promise<Weights> {
  const file = await SafetensorsFile.open(await openAsBlob(join(TINY_SD, FILES[component])), FILES[component]);
  const rename = component === 'text_encoder' ? renameClipKey : (key: string) => key;
  const merged: TensorSource = {
    names: () => file.names(),
    info: (key) => (deltas.has(rename(key)) ? { dtype: 'F32', shape: file.info(key).shape } : file.info(key)),
    read: async (key) => {
      const delta = deltas.get(rename(key));
      if (!delta) return file.read(key);
      const base = await readAsFloat32(file, key);
      if (base.length !== delta.length) throw new Error(`mergedWeights: ΔW of ${rename(key)} has ${delta.length} values, the weight ${base.length}.`);
      return base.map((v, i) => v + delta[i]);
    },
  };
  const unused = [...deltas.keys()].filter((k) => !file.names().some((n) => rename(n) === k));
  if (unused.length > 0) throw new Error(`mergedWeights: no weight ${unused.join(', ')} in ${component}.`);
  return Weights.load(component, merged, { rename });
}

/** A seeded LoRA layer of rank 2, alpha 4, on a module of PyTorch shape `weight` ([out, in] or [out, in, kh, kw]). */
export function seededLayer(prefix: string, weight: readonly number[], seed: number, component?: ConceptLoraLayer['component']): ConceptLoraLayer {
  const [out, ...rest] = weight;
  const per = rest.reduce((a, b) => a * b, 1);
  return {
    prefix,
    ...(component && { component }),
    down: randomNormal(2 * per, seed, 0.3),
    downShape: [2, ...rest],
    up: randomNormal(out * 2, seed + 1, 0.3),
    upShape: [out, 2],
    alpha: 4,
  };
}

/** ΔW = scale · up · down for a layer (PyTorch layouts: [out, in] or [out, in, kh, kw], row-major). */
export function loraDelta(l: ConceptLoraLayer, scale: number): Float32Array {
  const [out, r] = l.upShape;
  const per = l.down.length / r;
  const delta = new Float32Array(out * per);
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < r; k++) {
      const u = scale * l.up[o * r + k];
      for (let j = 0; j < per; j++) delta[o * per + j] += u * l.down[k * per + j];
    }
  }
  return delta;
}

/** Σ of several layers' ΔW by weight key (`${prefix}.weight`), each at its scale. */
export function loraDeltas(layers: readonly { layer: ConceptLoraLayer; scale: number }[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const { layer, scale } of layers) {
    const key = `${layer.prefix}.weight`;
    const d = loraDelta(layer, scale);
    const sum = out.get(key);
    out.set(key, sum ? sum.map((v, i) => v + d[i]) : d);
  }
  return out;
}
