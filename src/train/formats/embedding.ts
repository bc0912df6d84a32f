/**
 * Textual-inversion embeddings as safetensors, in the two layouts the ecosystem reads:
 *  - 'single-key': `{ "<token>": F32 [n, dim] }` — diffusers `load_textual_inversion` (the key is
 *    the token), ComfyUI and AUTOMATIC1111 (any single tensor; they name it after the file).
 *  - 'emb_params': `{ "emb_params": F32 [n, dim] }` — what kohya's sd-scripts writes; the token
 *    is the file name for A1111/ComfyUI, and `studio.token` in our metadata.
 * Pure data: no tensors are created on import or export.
 */
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import type { TextualInversion } from '../textual-inversion';
import { FormatError, modelTextWidth, refuseNonFinite, textWidthFamily } from './errors';
import { commonMetadata, META, readTrainingInfo, type TrainingInfo } from './metadata';
import { safetensorsByteSize } from './plan';

export type EmbeddingLayout = 'single-key' | 'emb_params';
/** The pickled layouts the studio reads (never writes): AUTOMATIC1111's `.pt`, diffusers' `learned_embeds.bin`. */
export type TorchEmbeddingLayout = 'a1111-pt' | 'diffusers-bin';
export const KOHYA_EMBEDDING_KEY = 'emb_params';
/** The most vectors an imported embedding may have: what one prompt holds (77 positions less bos and eos). */
export const MAX_EMBEDDING_VECTORS = 75;

export interface EmbeddingExport extends TrainingInfo {
  token: string;
  /** [nVectors · dim] row-major. */
  vectors: Float32Array;
  nVectors: number;
  dim: number;
  classWord?: string;
}

export interface ImportedEmbedding {
  kind: 'embedding';
  layout: EmbeddingLayout | TorchEmbeddingLayout;
  /** From the key (single-key, diffusers-bin), else `studio.token`, else the file name without extension (a1111-pt). */
  token: string;
  vectors: Float32Array;
  nVectors: number;
  dim: number;
  classWord?: string;
  info: TrainingInfo;
  /** The file's `__metadata__` as is (a1111-pt: its `name`, `step`, `sd_checkpoint`, `sd_checkpoint_name`). */
  metadata: Readonly<Record<string, string>>;
  /** Set by `importPersonalization` where the file's token was invalid and `token` comes from the file name. */
  tokenNote?: string;
}

function tensorKey(e: Pick<EmbeddingExport, 'token'>, layout: EmbeddingLayout): string {
  if (layout === 'emb_params') return KOHYA_EMBEDDING_KEY;
  if (e.token.length === 0 || e.token === '__metadata__') throw new FormatError('invalid', `Embedding token '${e.token}' cannot be a safetensors key.`);
  return e.token;
}

function embeddingMetadata(e: Omit<EmbeddingExport, 'vectors'>, layout: EmbeddingLayout): Record<string, string> {
  const meta = commonMetadata('textual-inversion', layout, e);
  meta[META.token] = e.token;
  if (e.classWord !== undefined) meta[META.classWord] = e.classWord;
  meta[META.vectors] = String(e.nVectors);
  meta[META.dim] = String(e.dim);
  return meta;
}

export function exportEmbedding(e: EmbeddingExport, layout: EmbeddingLayout = 'single-key'): Uint8Array {
  if (!(Number.isInteger(e.nVectors) && e.nVectors >= 1 && Number.isInteger(e.dim) && e.dim >= 1) || e.vectors.length !== e.nVectors * e.dim) {
    throw new FormatError('invalid', `Embedding '${e.token}': ${e.vectors.length} values do not make ${e.nVectors} vectors of ${e.dim}.`);
  }
  return writeSafetensors({ [tensorKey(e, layout)]: { dtype: 'F32', shape: [e.nVectors, e.dim], data: e.vectors } }, embeddingMetadata(e, layout));
}

/** The export input of a trained concept (reads its vectors). */
export async function embeddingExportFrom(
  concept: TextualInversion,
  about: { token: string; classWord?: string } & TrainingInfo,
): Promise<EmbeddingExport> {
  const [nVectors, dim] = concept.vectors.shape;
  return { ...about, vectors: Float32Array.from(await concept.vectors.data()), nVectors, dim };
}

/** Exported size in bytes, without the vectors. */
export function embeddingFileBytes(e: Omit<EmbeddingExport, 'vectors'>, layout: EmbeddingLayout = 'single-key'): number {
  return safetensorsByteSize([{ name: tensorKey(e, layout), dtype: 'F32', shape: [e.nVectors, e.dim] }], embeddingMetadata(e, layout));
}

/** True when the file holds exactly one 1-D or 2-D tensor: the shape of an SD 1.x/2.x embedding. */
export function looksLikeEmbedding(file: SafetensorsFile): boolean {
  const names = file.names();
  return names.length === 1 && [1, 2].includes(file.info(names[0]).shape.length);
}

/** SDXL embeddings hold one tensor per text encoder. */
export function looksLikeSdxlEmbedding(file: SafetensorsFile): boolean {
  const names = file.names().sort();
  return names.length === 2 && names[0] === 'clip_g' && names[1] === 'clip_l';
}

/** Reads an embedding for a text encoder `expectedDim` wide (of the model `modelName`, for messages); refuses other widths. */
export async function readEmbedding(file: SafetensorsFile, expectedDim: number, fileName: string, modelName?: string): Promise<ImportedEmbedding> {
  if (looksLikeSdxlEmbedding(file)) throw sdxlEmbeddingRefusal(fileName, expectedDim, modelName);
  if (!looksLikeEmbedding(file)) throw new FormatError('unknown-format', `${fileName}: not an embedding (expected exactly one [vectors, width] tensor).`);
  const [key] = file.names();
  const shape = file.info(key).shape;
  // A1111 accepts a bare [dim] vector as one vector.
  const [nVectors, dim] = shape.length === 1 ? [1, shape[0]] : shape;
  const meta = file.metadata;
  if (dim !== expectedDim) throw widthRefusal(fileName, dim, expectedDim, { fileModel: readTrainingInfo(meta).baseModel, modelName });
  refuseVectorCount(fileName, nVectors);
  const layout: EmbeddingLayout = key === KOHYA_EMBEDDING_KEY ? 'emb_params' : 'single-key';
  const token = layout === 'single-key' ? key : (meta[META.token] ?? fileStem(fileName));
  const vectors = Float32Array.from(await file.readFloat32(key)); // a copy: never a view of the caller's bytes
  refuseNonFinite(vectors, `${fileName}: '${key}'`, "an embedding's values must be finite");
  return { kind: 'embedding', layout, token, vectors, nVectors, dim, classWord: meta[META.classWord], info: readTrainingInfo(meta), metadata: meta };
}

/** Refuses an embedding of no vectors, or of more than a prompt holds (before its values are read). */
export function refuseVectorCount(fileName: string, nVectors: number): void {
  if (nVectors < 1) throw new FormatError('invalid', `${fileName}: the embedding has no vectors.`);
  if (nVectors > MAX_EMBEDDING_VECTORS) {
    throw new FormatError('invalid', `${fileName}: the embedding has ${nVectors} vectors; a prompt holds at most ${MAX_EMBEDDING_VECTORS}, so it could never be used.`);
  }
}

export function sdxlEmbeddingRefusal(fileName: string, expectedDim: number, modelName?: string): FormatError {
  return new FormatError('dim-mismatch', `${fileName}: this is an SDXL embedding (clip_l + clip_g); ${modelTextWidth(expectedDim, modelName)}.`);
}

/**
 * An embedding of another width: the file's model as the file names it (its base model), else
 * the width's family, else "a model the file does not name"; the loaded model by its name.
 */
export function widthRefusal(fileName: string, dim: number, expectedDim: number, names: { fileModel?: string; modelName?: string } = {}): FormatError {
  const madeFor = [textWidthFamily(dim), names.fileModel && `made for ${names.fileModel}`].filter(Boolean).join(', ') || 'a model the file does not name';
  return new FormatError(
    'dim-mismatch',
    `${fileName}: the embedding's vectors are ${dim} wide (${madeFor}), but ${modelTextWidth(expectedDim, names.modelName)}. Use an embedding trained for this base model.`,
  );
}

/** `dir/my-cat.safetensors` → `my-cat`. */
export function fileStem(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/\.[^.]*$/, '');
}
