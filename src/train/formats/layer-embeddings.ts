/**
 * P+ concepts (a vector per cross-attention layer) as files, in a layout of ours. One F32 tensor
 * [1, dim] per layer, keyed by the layer's attn2 module path:
 *
 *   "down_blocks.0.attentions.0.transformer_blocks.0.attn2": [1, 768]
 *   … one per attn2 of the UNet (16 for SD 1.x) …
 *   "up_blocks.3.attentions.2.transformer_blocks.0.attn2":   [1, 768]
 *
 * with `__metadata__` studio.kind "pplus", studio.layout "per-layer", studio.token, studio.class_word,
 * studio.vectors (the layer count), studio.dim and the common keys (metadata.ts). Read back in the
 * model's forward order (`model/cross-attention.ts`): every layer of the model must be there.
 * kohya's XTI layout (16 keys IN01 … OUT11, checked against sd-scripts) is kohya-xti.ts.
 */
import type { UNetConfig } from '../../model/config';
import { crossAttentionPaths } from '../../model/cross-attention';
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { FormatError, refuseNonFinite } from './errors';
import { commonMetadata, META, readTrainingInfo, type TrainingInfo } from './metadata';

export const LAYER_EMBEDDINGS_KIND = 'pplus';
const LAYOUT = 'per-layer' as const;

export interface LayerEmbeddingsExport extends TrainingInfo {
  token: string;
  classWord?: string;
  /** attn2 module paths, row l of `vectors` is layer l's. */
  layers: readonly string[];
  dim: number;
  vectors: Float32Array;
}

export interface ImportedLayerEmbeddings {
  kind: 'layer-embeddings';
  /** Ours (attn2 paths as keys) or kohya's XTI block names. */
  layout: 'per-layer' | 'kohya-xti';
  token: string;
  classWord?: string;
  /** The model's attn2 paths in forward order. */
  layers: string[];
  dim: number;
  /** [layers, dim] row-major. */
  vectors: Float32Array;
  info: TrainingInfo;
  metadata: Readonly<Record<string, string>>;
  /** Set by `importPersonalization` where the file's token was invalid and `token` comes from the file name. */
  tokenNote?: string;
}

export function exportLayerEmbeddings(e: LayerEmbeddingsExport): Uint8Array {
  if (e.layers.length === 0 || e.vectors.length !== e.layers.length * e.dim) {
    throw new FormatError('invalid', `P+ concept '${e.token}': ${e.vectors.length} values do not make ${e.layers.length} layer vectors of ${e.dim}.`);
  }
  const tensors = Object.fromEntries(e.layers.map((path, l) => [path, { dtype: 'F32' as const, shape: [1, e.dim], data: e.vectors.subarray(l * e.dim, (l + 1) * e.dim) }]));
  const meta = commonMetadata(LAYER_EMBEDDINGS_KIND, LAYOUT, e);
  meta[META.token] = e.token;
  if (e.classWord !== undefined) meta[META.classWord] = e.classWord;
  meta[META.vectors] = String(e.layers.length);
  meta[META.dim] = String(e.dim);
  return writeSafetensors(tensors, meta);
}

/** Ours by its metadata, or every key an attn2 module path. */
export function looksLikeLayerEmbeddings(file: SafetensorsFile): boolean {
  return file.metadata[META.kind] === LAYER_EMBEDDINGS_KIND || (file.names().length > 1 && file.names().every((n) => n.endsWith('.attn2')));
}

export async function readLayerEmbeddings(file: SafetensorsFile, target: { textDim: number; unet: UNetConfig; modelName?: string }): Promise<ImportedLayerEmbeddings> {
  const name = file.fileName;
  const layers = crossAttentionPaths(target.unet);
  const model = target.modelName ?? 'this model';
  const missing = layers.filter((p) => !file.has(p));
  const extra = file.names().filter((n) => !layers.includes(n));
  if (missing.length || extra.length) {
    const what = [missing.length && `lacks ${missing.length} of ${model}'s ${layers.length} cross-attention layers (e.g. '${missing[0]}')`, extra.length && `has layers ${model} lacks (e.g. '${extra[0]}')`].filter(Boolean).join(' and ');
    throw new FormatError('invalid', `${name} is a per-layer (P+) embedding that ${what}.`);
  }
  const D = target.textDim;
  const vectors = new Float32Array(layers.length * D);
  for (const [l, path] of layers.entries()) {
    const { shape } = file.info(path);
    const width = shape[shape.length - 1];
    if (shape.reduce((a, b) => a * b, 1) !== width || width !== D) throw new FormatError('invalid', `${name}: layer '${path}' is [${shape}], one vector of ${D} (${model}'s text width) is needed.`);
    vectors.set(await file.readFloat32(path), l * D); // F32, F16 or BF16, copied
  }
  refuseNonFinite(vectors, name, 'every vector must be finite');
  const meta = file.metadata;
  const token = meta[META.token] ?? `<${name.replace(/\.safetensors$/i, '')}>`;
  return { kind: 'layer-embeddings', layout: LAYOUT, token, ...(meta[META.classWord] !== undefined && { classWord: meta[META.classWord] }), layers, dim: D, vectors, info: readTrainingInfo(meta), metadata: meta };
}
