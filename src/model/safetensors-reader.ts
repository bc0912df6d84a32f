/**
 * safetensors, read lazily, tensor by tensor.
 *
 * Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 `N`, then `N`
 * bytes of UTF-8 JSON `{"__metadata__": {str: str}, name: {dtype, shape, data_offsets: [begin,
 * end]}, ...}` (padded with spaces), then the data section; offsets are relative to its start.
 *
 * The header is validated once, strictly, in `open`: at most 16 MiB, its JSON read by
 * safetensors-header.ts (no duplicate keys, bounded nesting, only spaces after it), and the data
 * laid out without holes or overlaps, as the reference implementation requires. Every problem is a
 * `SafetensorsError` naming the file, the tensor and what is wrong (values shown truncated).
 * Tensor data is read only when asked for, with `Blob.slice` for files (a 2 GB checkpoint never
 * has to sit in memory whole).
 */
import { bf16ToF32, DTYPE_BYTES, f16ToF32, type SafetensorsDtype, type TensorData } from './safetensors-dtypes';
import { clip, HeaderSyntaxError, parseHeaderJson, preview, type Json, type JsonObject } from './safetensors-header';

/** Dtypes the format defines but the studio does not read (named in the error). */
const OTHER_FORMAT_DTYPES = new Set(['F64', 'F8_E4M3', 'F8_E5M2', 'I8', 'I16', 'I32', 'U8', 'U16', 'U32', 'U64', 'BOOL']);

/** Headers the studio reads (SD checkpoints' are well under 1 MiB); checked before decoding. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export function headerTooLarge(bytes: number | bigint): string {
  return `header of ${bytes} bytes is larger than the 16 MiB the studio reads.`;
}

export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the data section. */
  dataOffsets: [number, number];
}

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  readonly file: string;
  readonly tensor?: string;

  constructor(file: string, problem: string, tensor?: string) {
    super(`${file}: ${tensor === undefined ? '' : `tensor '${clip(tensor)}': `}${problem}`);
    this.file = file;
    this.tensor = tensor;
  }
}

/** Where the bytes come from: a Blob/File (read lazily) or bytes already in memory. */
export type SafetensorsSource = Blob | Uint8Array | ArrayBuffer;

interface ByteReader {
  size: number;
  /** Bytes [begin, end); a fresh buffer for Blobs, possibly a view for in-memory bytes. */
  read(begin: number, end: number): Promise<Uint8Array>;
}

function byteReader(source: SafetensorsSource): ByteReader {
  if (source instanceof Blob) {
    return { size: source.size, read: async (b, e) => new Uint8Array(await source.slice(b, e).arrayBuffer()) };
  }
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  return { size: bytes.byteLength, read: async (b, e) => bytes.subarray(b, e) };
}

// Typed arrays use the platform's byte order; safetensors is little-endian, as is every platform
// a browser with WebGPU runs on. Checked once rather than assumed silently.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class SafetensorsFile {
  /** The name used in error messages. */
  readonly fileName: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset of the data section in the file (8 + header length). */
  readonly dataStart: number;
  private readonly tensors: Map<string, TensorInfo>;
  private readonly reader: ByteReader;

  private constructor(fileName: string, reader: ByteReader, dataStart: number, metadata: Record<string, string>, tensors: Map<string, TensorInfo>) {
    this.fileName = fileName;
    this.reader = reader;
    this.dataStart = dataStart;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  /** Reads and validates the header; `fileName` defaults to the File's name. */
  static async open(source: SafetensorsSource, fileName?: string): Promise<SafetensorsFile> {
    const name = fileName ?? (typeof File !== 'undefined' && source instanceof File ? source.name : 'safetensors file');
    if (!LITTLE_ENDIAN) throw new SafetensorsError(name, 'this platform is big-endian; safetensors data is little-endian.');
    const reader = byteReader(source);
    if (reader.size < 8) {
      throw new SafetensorsError(name, `file is truncated: ${reader.size} bytes, shorter than the 8-byte header length.`);
    }
    const lengthBytes = await reader.read(0, 8);
    const headerLength = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(name, headerTooLarge(headerLength));
    const n = Number(headerLength);
    if (8 + n > reader.size) {
      throw new SafetensorsError(name, `header length ${n} is larger than the file (${reader.size} bytes): the file is truncated or not safetensors.`);
    }
    if (n < 2) throw new SafetensorsError(name, `header length ${n} is too small to hold a JSON object.`);
    const headerBytes = await reader.read(8, 8 + n);
    const header = parseHeader(name, headerBytes);
    const dataLength = reader.size - 8 - n;
    const { metadata, tensors } = validateHeader(name, header, dataLength);
    return new SafetensorsFile(name, reader, 8 + n, metadata, tensors);
  }

  /** Tensor names in header order (`__metadata__` excluded). */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError(this.fileName, 'no such tensor in this file.', name);
    return { dtype: info.dtype, shape: [...info.shape], dataOffsets: [...info.dataOffsets] };
  }

  /** The tensor's raw little-endian bytes (a fresh copy for Blob sources, else possibly a view). */
  async readBytes(name: string): Promise<Uint8Array> {
    const [begin, end] = this.info(name).dataOffsets;
    return this.reader.read(this.dataStart + begin, this.dataStart + end);
  }

  /**
   * The tensor's data: F32 → Float32Array, F16/BF16 → Uint16Array of raw bits, I64 → BigInt64Array.
   * May share memory with in-memory sources; copy before mutating.
   */
  async read(name: string): Promise<TensorData> {
    const { dtype } = this.info(name);
    const bytes = await this.readBytes(name);
    const aligned = bytes.byteOffset % DTYPE_BYTES[dtype] === 0 ? bytes : bytes.slice();
    const count = aligned.byteLength / DTYPE_BYTES[dtype];
    switch (dtype) {
      case 'F32':
        return new Float32Array(aligned.buffer, aligned.byteOffset, count);
      case 'F16':
      case 'BF16':
        return new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      case 'I64':
        return new BigInt64Array(aligned.buffer, aligned.byteOffset, count);
    }
  }

  /** The tensor as float32 values (F16 and BF16 converted); I64 is refused. */
  async readFloat32(name: string): Promise<Float32Array> {
    const { dtype } = this.info(name);
    const data = await this.read(name);
    if (dtype === 'F32') return data as Float32Array;
    if (dtype === 'F16') return f16ToF32(data as Uint16Array);
    if (dtype === 'BF16') return bf16ToF32(data as Uint16Array);
    throw new SafetensorsError(this.fileName, `dtype ${dtype} is not a floating-point type.`, name);
  }
}

function parseHeader(file: string, bytes: Uint8Array): JsonObject {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes); // a BOM is kept, and refused
  } catch {
    throw new SafetensorsError(file, 'header is not valid UTF-8; this is not a safetensors file.');
  }
  try {
    return parseHeaderJson(text);
  } catch (e) {
    if (e instanceof HeaderSyntaxError) throw new SafetensorsError(file, e.message);
    throw e;
  }
}

function validateHeader(file: string, header: JsonObject, dataLength: number) {
  // Null prototype: any key, `__proto__` included, is an own string like the others.
  const metadata: Record<string, string> = Object.create(null);
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of header) {
    if (name === '__metadata__') {
      if (!(entry instanceof Map)) throw new SafetensorsError(file, '__metadata__ is not an object of strings.');
      for (const [key, value] of entry) {
        if (typeof value !== 'string') throw new SafetensorsError(file, `__metadata__ value of '${clip(key)}' is not a string: ${preview(value)}.`);
        metadata[key] = value;
      }
      continue;
    }
    tensors.set(name, validateTensor(file, name, entry, dataLength));
  }
  checkLayout(file, tensors, dataLength);
  return { metadata, tensors };
}

/**
 * As the reference implementation: in order of their offsets, each tensor begins where the one
 * before ended and the last ends where the file does, so no two share bytes and no byte is unaccounted
 * for (empty tensors sit at a boundary).
 */
function checkLayout(file: string, tensors: Map<string, TensorInfo>, dataLength: number): void {
  const byOffset = [...tensors].sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let end = 0;
  let previous: [string, TensorInfo] | undefined;
  for (const [name, t] of byOffset) {
    const [begin, tensorEnd] = t.dataOffsets;
    if (begin < end) {
      const [prevName, prev] = previous!;
      throw new SafetensorsError(
        file,
        `data_offsets [${begin}, ${tensorEnd}] overlap tensor '${clip(prevName)}' at [${prev.dataOffsets[0]}, ${prev.dataOffsets[1]}].`,
        name,
      );
    }
    if (begin > end) {
      throw new SafetensorsError(file, `data_offsets [${begin}, ${tensorEnd}] leave bytes [${end}, ${begin}) of the data section unused; safetensors data has no holes.`, name);
    }
    end = tensorEnd;
    previous = [name, t];
  }
  if (end !== dataLength) {
    throw new SafetensorsError(file, `the data section has ${dataLength} bytes but its tensors end at byte ${end}; safetensors data has no holes.`);
  }
}

function validateTensor(file: string, name: string, entry: Json, dataLength: number): TensorInfo {
  const fail = (problem: string) => new SafetensorsError(file, problem, name);
  if (!(entry instanceof Map)) throw fail(`entry is not an object: ${preview(entry)}.`);
  const dtype = entry.get('dtype');
  const shape = entry.get('shape');
  const offsets = entry.get('data_offsets');

  if (typeof dtype !== 'string') throw fail('dtype is missing.');
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
    const kind = OTHER_FORMAT_DTYPES.has(dtype) ? 'unsupported' : 'unknown';
    throw fail(`${kind} dtype ${clip(dtype)} (the studio reads ${Object.keys(DTYPE_BYTES).join(', ')}).`);
  }
  const elementBytes = DTYPE_BYTES[dtype as SafetensorsDtype];

  if (!Array.isArray(shape)) throw fail(`shape ${preview(shape)} is not an array.`);
  let bytes = elementBytes;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw fail(`shape ${preview(shape)} has ${preview(d)}, not a non-negative integer.`);
    // Checked at every step, as the reference does: a later 0 does not excuse an overflow.
    bytes *= d;
    if (!Number.isSafeInteger(bytes)) throw fail(`shape ${preview(shape)} is too large.`);
  }

  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
    throw fail(`data_offsets ${preview(offsets)} are not two non-negative integers [begin, end].`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw fail(`data_offsets [${begin}, ${end}] end before they begin.`);
  if (end > dataLength) {
    throw fail(`data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLength} bytes (file truncated?).`);
  }
  if (end - begin !== bytes) {
    throw fail(`size mismatch: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} shape ${preview(shape)} needs ${bytes}.`);
  }
  return { dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], dataOffsets: [begin, end] };
}
