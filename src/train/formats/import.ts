/**
 * Import of a user's personalization file: an embedding or a UNet LoRA, told apart by its keys.
 * Order of checks: empty → PyTorch file: `.pt` / `.bin` (or a zip of another name) is read as a
 * textual-inversion embedding by the safe torch reader (an allow-listed pickle interpreter: no
 * code runs); `.ckpt` / `.pth` / `.pkl` / `.pickle` and raw pickles are refused unparsed →
 * safetensors header → Perfusion, LoRA, P+ (kohya XTI or ours) or embedding. Every refusal is a `FormatError` (`ImportRefused`);
 * nothing is kept.
 */
import type { ClipTextConfig, UNetConfig } from '../../model/config';
import { SafetensorsError, SafetensorsFile, type SafetensorsSource } from '../../model/safetensors-reader';
import { looksLikeEmbedding, looksLikeSdxlEmbedding, readEmbedding, type ImportedEmbedding } from './embedding';
import { FormatError } from './errors';
import { importedToken, loraFileToken } from './import-token';
import { looksLikeLora, readLora, type ImportedLora, type LoraReadOptions } from './lora-import';
import { pickleRefusal, readTorchEmbedding } from './torch-embedding';
import { looksLikeKohyaXti, readKohyaXti } from './kohya-xti';
import { looksLikeLayerEmbeddings, readLayerEmbeddings, type ImportedLayerEmbeddings } from './layer-embeddings';
import { looksLikePerfusion, readPerfusion, type ImportedPerfusion } from './perfusion-file';

export type ImportedPersonalization = ImportedEmbedding | ImportedLora | ImportedLayerEmbeddings | ImportedPerfusion;

/** What the current model accepts. */
export interface ImportTarget {
  /** The text encoder's width (CLIP hidden size): 768 for SD 1.x. */
  textDim: number;
  unet: UNetConfig;
  /** The text encoder's config, for text-encoder LoRA layers (without it they are refused). */
  text?: ClipTextConfig;
  /** What people call the model, for refusals ("shapes-sd's text encoder is 32 wide"). */
  modelName?: string;
  /** The model's vocabulary: an embedding's token must be a new word (without it, not checked). */
  isVocabularyWord?: (token: string) => boolean;
}

export type ImportOptions = LoraReadOptions;

const PICKLE_EXTENSIONS = ['.pt', '.pth', '.bin', '.ckpt', '.pkl', '.pickle'];

const ZIP_SIGNATURE = 'a zip archive (torch.save)';

/** Why the bytes are a pickle, or null: zip (torch.save since 1.6) or a raw pickle (protocol 2–5). */
export function pickleSignature(head: Uint8Array): string | null {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return ZIP_SIGNATURE;
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return `a pickle (protocol ${head[1]})`;
  return null;
}

async function head(source: SafetensorsSource, n: number): Promise<Uint8Array> {
  if (source instanceof Blob) return new Uint8Array(await source.slice(0, n).arrayBuffer());
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  return bytes.subarray(0, n);
}

function sizeOf(source: SafetensorsSource): number {
  return source instanceof Blob ? source.size : source.byteLength;
}

export async function importPersonalization(source: SafetensorsSource, fileName: string, target: ImportTarget, options: ImportOptions = {}): Promise<ImportedPersonalization> {
  if (sizeOf(source) === 0) throw new FormatError('empty', `${fileName} is empty (0 bytes).`);
  const lower = fileName.toLowerCase();
  const ext = PICKLE_EXTENSIONS.find((e) => lower.endsWith(e));
  const signature = pickleSignature(await head(source, 4));
  if (ext === '.pt' || ext === '.bin' || (!ext && signature === ZIP_SIGNATURE)) return withToken(await readTorchEmbedding(source, fileName, target.textDim, target.modelName), fileName, target);
  if (ext) throw pickleRefusal(fileName, `a PyTorch file (${ext})`);
  if (signature) throw pickleRefusal(fileName, signature);

  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(source, fileName);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new FormatError('not-safetensors', `${e.message} Import an embedding or LoRA .safetensors file.`, { cause: e });
    throw e;
  }
  if (file.names().length === 0) throw new FormatError('empty', `${fileName} holds no tensors.`);
  try {
    return withToken(await readPersonalization(file, fileName, target, options), fileName, target);
  } catch (e) {
    // a tensor the reader refuses to convert (e.g. an I64 embedding): named by the reader
    if (e instanceof SafetensorsError) throw new FormatError('invalid', e.message, { cause: e });
    throw e;
  }
}

/** The file's token, or one from its file name where the file's is not a valid token (import-token.ts). */
function withToken(imported: ImportedPersonalization, fileName: string, target: ImportTarget): ImportedPersonalization {
  if (imported.kind === 'embedding' || imported.kind === 'layer-embeddings' || imported.kind === 'perfusion') return { ...imported, ...importedToken(imported.token, fileName, { isVocabularyWord: target.isVocabularyWord }) };
  return { ...imported, ...importedToken(loraFileToken(imported.metadata, fileName), fileName) };
}

async function readPersonalization(file: SafetensorsFile, fileName: string, target: ImportTarget, options: ImportOptions): Promise<ImportedPersonalization> {
  if (looksLikePerfusion(file)) return readPerfusion(file, target);
  if (looksLikeLora(file)) return readLora(file, target, fileName, options);
  if (looksLikeKohyaXti(file)) return readKohyaXti(file, target); // before ours: it carries our metadata when we wrote it
  if (looksLikeLayerEmbeddings(file)) return readLayerEmbeddings(file, target);
  if (looksLikeEmbedding(file) || looksLikeSdxlEmbedding(file)) return readEmbedding(file, target.textDim, fileName, target.modelName);
  const shown = file.names().slice(0, 3).map((k) => `'${k}'`).join(', ');
  throw new FormatError(
    'unknown-format',
    `${fileName} is neither a textual-inversion embedding (one [vectors, width] tensor) nor a LoRA (kohya, PEFT or diffusers keys); it holds ${file.names().length} tensors such as ${shown}.`,
  );
}
