/**
 * The zip container torch.save writes (PyTorch ≥ 1.6), read from bytes in memory: the end record,
 * the central directory, each entry's local header. STORED entries (what torch writes) are views
 * of the bytes; DEFLATE entries are inflated by fflate into a buffer of their declared size. Every
 * count, size and offset is checked against the bytes; every problem is a `FormatError('invalid')`.
 */
import { inflateSync } from 'fflate';
import { FormatError } from './errors';

const END_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const END_BYTES = 22;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
const MAX_COMMENT_BYTES = 0xffff;
const STORED = 0;
const DEFLATE = 8;

/** A torch.save embedding holds about 7 entries, a pickled model a few thousand. */
export const MAX_ZIP_ENTRIES = 4096;
/** DEFLATE entries may inflate, all together, to at most this many times the archive's size. */
const MAX_INFLATE_RATIO = 16;

interface ZipEntry {
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Where the entry's data starts in the archive. */
  dataStart: number;
}

const entryNames = new TextDecoder('utf-8');

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE, as zip uses it), unsigned. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export class ZipArchive {
  /** Entry names in central-directory order. */
  readonly names: readonly string[];
  private readonly inflated = new Map<string, Uint8Array>();
  private inflateBudget: number;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly fileName: string,
    private readonly entries: Map<string, ZipEntry>,
  ) {
    this.names = [...entries.keys()];
    this.inflateBudget = bytes.length * MAX_INFLATE_RATIO;
  }

  static open(bytes: Uint8Array, fileName: string): ZipArchive {
    const fail = (problem: string) => new FormatError('invalid', `${fileName}: not a readable zip archive: ${problem}.`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = findEndRecord(view);
    if (end < 0) throw fail('no end-of-central-directory record');
    const count = view.getUint16(end + 10, true);
    const directorySize = view.getUint32(end + 12, true);
    const directoryStart = view.getUint32(end + 16, true);
    if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0 || view.getUint16(end + 8, true) !== count) throw fail('it spans several disks');
    if (count > MAX_ZIP_ENTRIES) throw fail(`it holds ${count} entries; a torch.save embedding holds a handful`);
    if (directoryStart + directorySize > end || count * CENTRAL_BYTES > directorySize) throw fail('the central directory does not fit before its end record');

    const entries = new Map<string, ZipEntry>();
    let p = directoryStart;
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_BYTES > directoryStart + directorySize || view.getUint32(p, true) !== CENTRAL_SIGNATURE) throw fail(`central directory entry ${i} is missing`);
      const flags = view.getUint16(p + 8, true);
      const method = view.getUint16(p + 10, true);
      const crc = view.getUint32(p + 16, true);
      const compressedSize = view.getUint32(p + 20, true);
      const size = view.getUint32(p + 24, true);
      const nameLength = view.getUint16(p + 28, true);
      const next = p + CENTRAL_BYTES + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
      const localStart = view.getUint32(p + 42, true);
      if (next > directoryStart + directorySize) throw fail(`central directory entry ${i} runs past the directory`);
      const nameBytes = bytes.subarray(p + CENTRAL_BYTES, p + CENTRAL_BYTES + nameLength);
      const name = entryNames.decode(nameBytes);
      const what = `entry '${name}'`;
      if (entries.has(name)) throw fail(`${what} appears twice`);
      if (flags & 1) throw fail(`${what} is encrypted`);
      if (method !== STORED && method !== DEFLATE) throw fail(`${what} uses compression method ${method} (only stored and deflate are read)`);
      if (method === STORED && compressedSize !== size) throw fail(`${what} is stored but its sizes differ`);
      if (localStart + LOCAL_BYTES > directoryStart || view.getUint32(localStart, true) !== LOCAL_SIGNATURE) throw fail(`${what} has no local header`);
      const localNameLength = view.getUint16(localStart + 26, true);
      const dataStart = localStart + LOCAL_BYTES + localNameLength + view.getUint16(localStart + 28, true);
      if (!sameBytes(bytes.subarray(localStart + LOCAL_BYTES, localStart + LOCAL_BYTES + localNameLength), nameBytes)) throw fail(`${what}'s local header names another file`);
      if (dataStart + compressedSize > directoryStart) throw fail(`${what}'s data runs into the central directory`);
      entries.set(name, { method, crc, compressedSize, size, dataStart });
      p = next;
    }
    return new ZipArchive(bytes, fileName, entries);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** An entry's bytes: a view for STORED entries (never copied), inflated once for DEFLATE. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    const fail = (problem: string) => new FormatError('invalid', `${this.fileName}: zip entry '${name}' ${problem}.`);
    if (!entry) throw fail('is missing');
    const raw = this.bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
    let data = entry.method === STORED ? raw : this.inflated.get(name);
    if (!data) {
      if (entry.size > this.inflateBudget) throw fail(`would inflate to ${entry.size} bytes, more than ${MAX_INFLATE_RATIO}× the archive`);
      this.inflateBudget -= entry.size;
      try {
        data = inflateSync(raw, { out: new Uint8Array(entry.size) });
      } catch (e) {
        throw new FormatError('invalid', `${this.fileName}: zip entry '${name}' is not valid deflate data (${e instanceof Error ? e.message : String(e)}).`, { cause: e });
      }
      if (data.length !== entry.size) throw fail(`inflates to ${data.length} bytes, not the ${entry.size} its header says`);
      this.inflated.set(name, data);
    }
    // torch.save may be told not to compute CRCs (it then writes 0)
    if (entry.crc !== 0 && crc32(data) !== entry.crc) throw fail('fails its CRC-32 check');
    return data;
  }
}

/** The end record's offset: the last signature whose comment ends at or before the end. */
function findEndRecord(view: DataView): number {
  const last = view.byteLength - END_BYTES;
  for (let p = last; p >= 0 && p >= last - MAX_COMMENT_BYTES; p--) {
    if (view.getUint32(p, true) === END_SIGNATURE && p + END_BYTES + view.getUint16(p + 20, true) <= view.byteLength) return p;
  }
  return -1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
