/**
 * P+ concepts in kohya's XTI layout (sd-scripts `train_textual_inversion_XTI.py`, `save_weights`;
 * read by its `load_weights` and `gen_img_diffusers.py --XTI_embeddings`). 16 tensors
 * [num_vectors, dim], one per cross-attention layer, named by the LDM block that holds it:
 *
 *   IN01 IN02 IN04 IN05 IN07 IN08 MID OUT03 OUT04 … OUT11
 *
 * in the UNet's forward order (XTI_hijack.py hands layer l's states to the l-th attn2: 2 per
 * cross-attention down block, the mid block, 3 per up block). kohya saves F32 unless
 * `--save_precision` names fp16/bf16 and writes no metadata; its loader wants exactly these
 * keys and takes the prompt word from the file name. We write 1 vector per layer, F32 or F16,
 * plus our `studio.*` metadata (ignored by safetensors' `load_file`). The names are derived from
 * the UNet config (LDM `input_blocks` / `output_blocks` numbering); a model whose cross-attention
 * layers do not come out as these 16 names is refused.
 */
import type { UNetConfig } from '../../model/config';
import { crossAttentionPaths } from '../../model/cross-attention';
import { f16ToF32, f32ToF16 } from '../../model/safetensors-dtypes';
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { FormatError, refuseNonFinite } from './errors';
import type { ImportedLayerEmbeddings, LayerEmbeddingsExport } from './layer-embeddings';
import { commonMetadata, META, readTrainingInfo } from './metadata';

export const KOHYA_XTI_NAMES = ['IN01', 'IN02', 'IN04', 'IN05', 'IN07', 'IN08', 'MID', 'OUT03', 'OUT04', 'OUT05', 'OUT06', 'OUT07', 'OUT08', 'OUT09', 'OUT10', 'OUT11'] as const;
export const KOHYA_XTI_LAYOUT = 'kohya-xti';
export type KohyaXtiDtype = 'F32' | 'F16';

const two = (k: number) => String(k).padStart(2, '0');

/** The LDM block name of each attn2 in forward order (`crossAttentionPaths`'s order). */
export function ldmBlockNames(c: UNetConfig): string[] {
  const names: string[] = [];
  const n = c.blockOutChannels.length;
  let input = 1; // input_blocks.0 is conv_in
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c.layersPerBlock[i]; j++, input++) {
      if (c.downBlockTypes[i] === 'CrossAttnDownBlock2D') for (let t = 0; t < c.transformerLayersPerBlock[i]; t++) names.push(`IN${two(input)}`);
    }
    if (i < n - 1) input++; // the downsampler's block
  }
  if (c.midBlock) for (let t = 0; t < c.transformerLayersPerBlock[n - 1]; t++) names.push('MID');
  let output = 0; // an up block's upsampler shares its last output block
  for (let i = 0; i < n; i++) {
    const r = n - 1 - i;
    for (let j = 0; j < c.layersPerBlock[r] + 1; j++, output++) {
      if (c.upBlockTypes[i] === 'CrossAttnUpBlock2D') for (let t = 0; t < c.transformerLayersPerBlock[r]; t++) names.push(`OUT${two(output)}`);
    }
  }
  return names;
}

/** Each kohya name's attn2 path, or a refusal naming the model's layer count. */
export function kohyaXtiPaths(c: UNetConfig, modelName = 'this model'): Map<string, string> {
  const names = ldmBlockNames(c);
  const paths = crossAttentionPaths(c);
  if (names.join() !== KOHYA_XTI_NAMES.join()) {
    const why = paths.length === KOHYA_XTI_NAMES.length ? `its 16 sit in blocks ${[...new Set(names)].join(', ')}` : `it has ${paths.length}`;
    throw new FormatError('invalid', `kohya's XTI layout names the 16 cross-attention layers of SD 1.x (${KOHYA_XTI_NAMES[0]} … ${KOHYA_XTI_NAMES[15]}, one transformer each); ${modelName} does not fit: ${why}. Save in the studio's per-layer layout instead.`);
  }
  return new Map(names.map((name, l) => [name, paths[l]]));
}

export interface KohyaXtiTarget {
  unet: UNetConfig;
  modelName?: string;
}

export function exportKohyaXti(e: LayerEmbeddingsExport, target: KohyaXtiTarget, dtype: KohyaXtiDtype = 'F32'): Uint8Array {
  const byName = kohyaXtiPaths(target.unet, target.modelName);
  const row = new Map(e.layers.map((p, l) => [p, l]));
  if (e.layers.length !== byName.size || [...byName.values()].some((p) => !row.has(p)) || e.vectors.length !== e.layers.length * e.dim) {
    throw new FormatError('invalid', `P+ concept '${e.token}': its ${e.layers.length} layer vectors are not on ${target.modelName ?? 'this model'}'s 16 cross-attention layers; load the model it was made for.`);
  }
  const tensors = Object.fromEntries(
    [...byName].map(([name, path]) => {
      const values = e.vectors.subarray(row.get(path)! * e.dim, (row.get(path)! + 1) * e.dim);
      if (dtype === 'F32') return [name, { dtype, shape: [1, e.dim], data: values }];
      const bits = f32ToF16(values);
      refuseNonFinite(f16ToF32(bits), `P+ concept '${e.token}' in F16 (layer ${name})`, 'save it as F32');
      return [name, { dtype, shape: [1, e.dim], data: bits }];
    }),
  );
  const meta = commonMetadata('pplus', KOHYA_XTI_LAYOUT, e);
  meta[META.token] = e.token;
  if (e.classWord !== undefined) meta[META.classWord] = e.classWord;
  meta[META.vectors] = String(e.layers.length);
  meta[META.dim] = String(e.dim);
  return writeSafetensors(tensors, meta);
}

/** kohya's test (`gen_img_diffusers.py`): the keys are exactly the 16 names. */
export function looksLikeKohyaXti(file: SafetensorsFile): boolean {
  const keys = file.names();
  return keys.length === KOHYA_XTI_NAMES.length && KOHYA_XTI_NAMES.every((n) => keys.includes(n));
}

export async function readKohyaXti(file: SafetensorsFile, target: KohyaXtiTarget & { textDim: number }): Promise<ImportedLayerEmbeddings> {
  const name = file.fileName;
  const model = target.modelName ?? 'this model';
  const byName = kohyaXtiPaths(target.unet, model);
  const D = target.textDim;
  const layers = crossAttentionPaths(target.unet);
  const vectors = new Float32Array(layers.length * D);
  for (const [key, path] of byName) {
    const { shape } = file.info(key);
    if (shape.length !== 2 || shape[1] !== D) throw new FormatError('invalid', `${name}: kohya XTI layer ${key} is [${shape}]; [vectors, ${D}] is needed (${model}'s text width is ${D}).`);
    if (shape[0] !== 1) throw new FormatError('invalid', `${name} holds ${shape[0]} vectors per layer (kohya's --num_vectors_per_token); a P+ concept here has one per layer.`);
    vectors.set(await file.readFloat32(key), layers.indexOf(path) * D); // F32, F16 or BF16
  }
  refuseNonFinite(vectors, name, 'every vector must be finite');
  const meta = file.metadata;
  const token = meta[META.token] ?? `<${name.replace(/\.safetensors$/i, '')}>`;
  return { kind: 'layer-embeddings', layout: KOHYA_XTI_LAYOUT, token, ...(meta[META.classWord] !== undefined && { classWord: meta[META.classWord] }), layers, dim: D, vectors, info: readTrainingInfo(meta), metadata: meta };
}
