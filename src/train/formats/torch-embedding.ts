/**
 * Textual-inversion embeddings saved with torch.save, read through the safe torch reader (no
 * code runs), in the two layouts the ecosystem writes:
 *  - 'a1111-pt': `{ "string_to_token": {"*": 265}, "string_to_param": {"*": [n, dim]}, "name",
 *    "step", "sd_checkpoint", "sd_checkpoint_name" }` (string_to_param may be a ParameterDict, as
 *    the original textual_inversion code saved it). AUTOMATIC1111 names the prompt word after
 *    the file, so the token is the file's stem.
 *  - 'diffusers-bin': `{ "<token>": [dim] or [n, dim] }` (`learned_embeds.bin`); the key is the token.
 * Anything else torch wrote (a LoRA, a checkpoint) is refused: pickled LoRAs and models are not read.
 */
import type { SafetensorsSource } from '../../model/safetensors-reader';
import { fileStem, KOHYA_EMBEDDING_KEY, refuseVectorCount, sdxlEmbeddingRefusal, widthRefusal, type ImportedEmbedding, type TorchEmbeddingLayout } from './embedding';
import { FormatError, refuseNonFinite } from './errors';
import { PyDict, TensorRef, typeName, type PickleValue } from './pickle-values';
import { readTorchFile, isLegacyTorchFile, type TorchFile } from './torch-file';
import { isZip } from './zip';

/** Files over this are refused unread: an embedding is a few KB, so this is a model or LoRA. */
export const MAX_TORCH_FILE_BYTES = 64 * 1024 * 1024;

const CONVERT =
  'Pickled LoRAs and full models are not concepts the studio reads (PyTorch pickles can run code; convert to safetensors, e.g. with safetensors.torch.save_file, and import that file).';

/** The refusal of a PyTorch file that is not an embedding: `what` says what it is. */
export function pickleRefusal(fileName: string, what: string): FormatError {
  return new FormatError('pickle', `${fileName} is ${what}. ${CONVERT}`);
}

/** A1111's keys kept as metadata. */
const A1111_INFO_KEYS = ['name', 'step', 'sd_checkpoint', 'sd_checkpoint_name'];

export async function readTorchEmbedding(source: SafetensorsSource, fileName: string, expectedDim: number, modelName?: string): Promise<ImportedEmbedding> {
  const size = source instanceof Blob ? source.size : source.byteLength;
  if (size > MAX_TORCH_FILE_BYTES) {
    throw pickleRefusal(fileName, `${(size / 2 ** 20).toFixed(1)} MiB, more than the ${MAX_TORCH_FILE_BYTES / 2 ** 20} MiB read from a PyTorch file: a textual-inversion embedding is a few KB, so this is a pickled model or LoRA`);
  }
  const bytes = source instanceof Blob ? new Uint8Array(await source.arrayBuffer()) : source instanceof Uint8Array ? source : new Uint8Array(source);
  if (!isZip(bytes) && !isLegacyTorchFile(bytes)) throw pickleRefusal(fileName, 'a PyTorch file but not a torch.save zip archive');
  return embeddingOf(readTorchFile(bytes, fileName), fileName, expectedDim, modelName);
}

function embeddingOf(file: TorchFile, fileName: string, expectedDim: number, modelName?: string): ImportedEmbedding {
  const found = findEmbedding(file.root, fileName, expectedDim, modelName);
  const { size } = found.tensor;
  if (size.length !== 1 && size.length !== 2) throw new FormatError('invalid', `${fileName}: ${found.what} is a [${size.join(', ')}] tensor; an embedding is [vectors, width].`);
  // A1111 accepts a bare [dim] vector as one vector.
  const [nVectors, dim] = size.length === 1 ? [1, size[0]] : size;
  if (dim !== expectedDim) throw widthRefusal(fileName, dim, expectedDim, { fileModel: found.info.baseModel ?? found.metadata.sd_checkpoint_name, modelName });
  refuseVectorCount(fileName, nVectors);
  const vectors = file.float32(found.tensor, found.what);
  refuseNonFinite(vectors, `${fileName}: ${found.what}`, "an embedding's values must be finite");
  return { kind: 'embedding', layout: found.layout, token: found.token, vectors, nVectors, dim, info: found.info, metadata: found.metadata };
}

interface Found {
  layout: TorchEmbeddingLayout;
  token: string;
  tensor: TensorRef;
  /** How messages name the tensor, e.g. `string_to_param['*']`. */
  what: string;
  info: ImportedEmbedding['info'];
  metadata: Record<string, string>;
}

function findEmbedding(root: PickleValue, fileName: string, expectedDim: number, modelName?: string): Found {
  if (!(root instanceof PyDict) || root.type === 'ParameterDict') throw pickleRefusal(fileName, `a PyTorch file holding ${describe(root)}, not a textual-inversion embedding`);
  const keys = [...root.entries.keys()];
  const params = root.get('string_to_param');
  if (params !== undefined) return a1111Embedding(root, params, fileName);
  if (root.get('clip_g') instanceof TensorRef && root.get('clip_l') instanceof TensorRef) throw sdxlEmbeddingRefusal(fileName, expectedDim, modelName);
  const [key] = keys;
  const tensor = root.entries.get(key);
  if (keys.length === 1 && typeof key === 'string' && tensor instanceof TensorRef) {
    // kohya's key is not a token: A1111 and ComfyUI name such an embedding after its file
    const token = key === KOHYA_EMBEDDING_KEY ? fileStem(fileName) : key;
    return { layout: 'diffusers-bin', token, tensor, what: `tensor '${key}'`, info: {}, metadata: {} };
  }
  throw pickleRefusal(fileName, `a PyTorch file holding ${describe(root)}, not a textual-inversion embedding`);
}

function a1111Embedding(root: PyDict, params: PickleValue, fileName: string): Found {
  // A1111: `getattr(param_dict, '_parameters', param_dict)`: a ParameterDict keeps them there
  const inner = params instanceof PyDict && params.type === 'ParameterDict' ? params.get('_parameters') : params;
  if (!(inner instanceof PyDict)) throw new FormatError('invalid', `${fileName}: string_to_param is ${describe(inner ?? null)}, not a dict of tensors.`);
  if (inner.entries.size !== 1) throw new FormatError('invalid', `${fileName}: string_to_param holds ${inner.entries.size} embeddings; the studio imports one per file.`);
  const [[key, tensor]] = inner.entries;
  const what = `string_to_param[${typeof key === 'string' ? `'${key}'` : String(key)}]`;
  if (!(tensor instanceof TensorRef)) throw new FormatError('invalid', `${fileName}: ${what} is ${describe(tensor)}, not a tensor.`);
  const metadata: Record<string, string> = {};
  for (const k of A1111_INFO_KEYS) {
    const v = root.get(k);
    if (typeof v === 'string' || typeof v === 'number') metadata[k] = String(v);
  }
  const step = root.get('step');
  const steps = typeof step === 'number' && Number.isInteger(step) && step >= 0 ? step : undefined;
  return { layout: 'a1111-pt', token: fileStem(fileName), tensor, what, info: { steps }, metadata };
}

/** `a dict of 3 entries such as 'a', 'b'`, for messages. */
function describe(v: PickleValue): string {
  if (!(v instanceof PyDict)) return v instanceof TensorRef ? 'one tensor' : typeName(v);
  const keys = [...v.entries.keys()].slice(0, 3).map((k) => (typeof k === 'string' ? `'${k.slice(0, 80)}'` : typeName(k)));
  return `a ${v.type} of ${v.entries.size} entries${keys.length > 0 ? ` such as ${keys.join(', ')}` : ''}`;
}
