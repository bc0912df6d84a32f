/**
 * Perfusion in the training loop: each step's inputs to the edit, read before the forward as
 * ChenDarYen's trainer does: i* is the batch-mean encoding at the concept token of the step's
 * prompts (with the embedding as it is now, no gradient), i_super the same with the class word in
 * the token's place (the superclass prompts), read at the same position.
 */
import * as tf from '../gpu/tf';
import { clipTextEncoder } from '../model/clip';
import type { StableDiffusionModel } from '../model/load';
import { crossAttentionPaths } from '../model/cross-attention';
import type { UNetConfig } from '../model/config';
import type { Checkpoint, StoredTensor } from './checkpoint';
import { encodingAt, PerfusionConcept, type ConceptEncodings, type PerfusionEdit } from './perfusion-concept';

const KEY_PREFIX = 'perfusion.';

/** Checkpoint key of layer `path`'s value target v*. */
export function perfusionValueKey(path: string): string {
  return `${KEY_PREFIX}${path}.value`;
}

/** Whether a checkpoint key is one of Perfusion's. */
export function isPerfusionKey(key: string): boolean {
  return key.startsWith(KEY_PREFIX);
}

/** A checkpoint's v* by attn2 path (a layer it lacks is missing from the map, for `PerfusionConcept.restore` to name). */
export function storedValues(tensors: readonly StoredTensor[], unet: UNetConfig): Map<string, Float32Array> {
  const byKey = new Map(tensors.filter((t) => isPerfusionKey(t.key)).map((t) => [t.key, t.data]));
  return new Map(crossAttentionPaths(unet).flatMap((path) => (byKey.has(perfusionValueKey(path)) ? [[path, byKey.get(perfusionValueKey(path))!] as const] : [])));
}

/**
 * The prompt rows with `tokenId` replaced by the class word's ids (`classIds`), each still
 * `row.length` long (a longer class word drops the last padding); the class word starts where
 * the token was.
 */
export function superclassRows(rows: readonly (readonly number[])[], tokenId: number, classIds: readonly number[]): number[][] {
  return rows.map((row) => {
    const n = row.indexOf(tokenId);
    if (n < 0) throw new Error("perfusion: a training prompt does not hold the concept's token.");
    return [...row.slice(0, n), ...classIds, ...row.slice(n + 1)].slice(0, row.length);
  });
}

/** This batch's i* and i_super: `embedTokens` answers the concept's token; `rows` the padded prompt ids [B][77]. */
export async function batchEncodings(
  model: Pick<StableDiffusionModel, 'text'>,
  embedTokens: (ids: tf.Tensor2D) => tf.Tensor3D,
  rows: readonly (readonly number[])[],
  tokenId: number,
  classIds: readonly number[],
): Promise<ConceptEncodings> {
  const superRows = superclassRows(rows, tokenId, classIds);
  const states = (r: readonly (readonly number[])[], embed?: typeof embedTokens) =>
    tf.tidy(() => clipTextEncoder(model.text.weights, model.text.config, tf.tensor2d(r.map((x) => [...x]), [r.length, r[0].length], 'int32'), { embedTokens: embed }).lastHiddenState);
  const concept = states(rows, embedTokens);
  const superclass = states(superRows);
  try {
    return { iStar: await encodingAt(concept, rows, tokenId), iSuper: await encodingAt(superclass, rows, tokenId) };
  } finally {
    tf.dispose([concept, superclass]);
  }
}

/** A checkpoint's edit as plain data (`PerfusionEdit`): its v* and running inputs, the locked keys from the model's W_k, C⁻¹ i* from `cInv`. */
export async function perfusionEditOf(unet: Pick<StableDiffusionModel, 'unet'>['unet'], cInv: Float32Array, checkpoint: Checkpoint): Promise<PerfusionEdit> {
  if (!checkpoint.perfusion) throw new Error('perfusion: this checkpoint was taken before the first step: it holds no edit yet.');
  const concept = PerfusionConcept.restore(unet, cInv, checkpoint.perfusion, storedValues(checkpoint.tensors, unet.config));
  try {
    return await concept.edit();
  } finally {
    concept.dispose();
  }
}
