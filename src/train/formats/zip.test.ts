import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { formatRefusal } from '../../test/import-refusals';
import { storedZip } from './torch-file.testing';
import { crc32, MAX_ZIP_ENTRIES, ZipArchive } from './zip';

const text = (s: string) => new TextEncoder().encode(s);

const refusal = formatRefusal;

/** Offset of the central directory entry of record `i` in a storedZip archive (its end record says where it starts). */
function centralEntry(zip: Uint8Array, i: number): number {
  const view = new DataView(zip.buffer, zip.byteOffset);
  let p = view.getUint32(zip.length - 6, true);
  for (let k = 0; k < i; k++) p += 46 + view.getUint16(p + 28, true) + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  return p;
}

describe('zip container', () => {
  it('crc32 is the IEEE CRC-32', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('reads STORED entries (with torch’s 64-byte padding) as views of the bytes', () => {
    const zip = storedZip([
      { name: 'archive/data.pkl', data: text('pickle') },
      { name: 'archive/data/0', data: Uint8Array.from([1, 2, 3, 4]) },
    ]);
    const archive = ZipArchive.open(zip, 'a.pt');
    expect(archive.names).toEqual(['archive/data.pkl', 'archive/data/0']);
    const data = archive.read('archive/data/0');
    expect([...data]).toEqual([1, 2, 3, 4]);
    expect(data.buffer).toBe(zip.buffer);
    expect(data.byteOffset % 64).toBe(0);
    expect(new TextDecoder().decode(archive.read('archive/data.pkl'))).toBe('pickle');
  });

  it('reads DEFLATE and STORED entries another writer (fflate) made', () => {
    let seed = 1;
    const big = new Uint8Array(5000).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24); // barely compressible, as tensors are
    const zip = zipSync({ 'x/data.pkl': [big, { level: 6 }], 'x/version': [text('3\n'), { level: 0 }] });
    const methods = [0, 1].map((i) => new DataView(zip.buffer, zip.byteOffset).getUint16(centralEntry(zip, i) + 10, true));
    expect(methods).toEqual([8, 0]);
    const archive = ZipArchive.open(zip, 'f.pt');
    expect(archive.read('x/data.pkl')).toEqual(big);
    expect(new TextDecoder().decode(archive.read('x/version'))).toBe('3\n');
  });

  it('refuses a truncated archive, a failed CRC and a missing entry', () => {
    const zip = storedZip([{ name: 'a/b', data: text('hello') }]);
    expect(refusal(() => ZipArchive.open(zip.subarray(0, zip.length - 1), 't.pt')).message).toMatch(/t\.pt: not a readable zip archive: no end-of-central-directory record/);
    const flipped = zip.slice();
    flipped[flipped.indexOf(0x68)] ^= 1; // 'h' of hello
    expect(refusal(() => ZipArchive.open(flipped, 'c.pt').read('a/b')).message).toMatch(/zip entry 'a\/b' fails its CRC-32 check/);
    expect(refusal(() => ZipArchive.open(zip, 'm.pt').read('a/c')).message).toMatch(/zip entry 'a\/c' is missing/);
  });

  it('refuses encrypted entries, unknown methods and too many entries', () => {
    const zip = storedZip([{ name: 'a/b', data: text('hello') }]);
    const view = (z: Uint8Array) => new DataView(z.buffer, z.byteOffset);
    const encrypted = zip.slice();
    view(encrypted).setUint16(centralEntry(encrypted, 0) + 8, 1, true);
    expect(refusal(() => ZipArchive.open(encrypted, 'e.pt')).message).toMatch(/entry 'a\/b' is encrypted/);
    const bzip = zip.slice();
    view(bzip).setUint16(centralEntry(bzip, 0) + 10, 12, true);
    expect(refusal(() => ZipArchive.open(bzip, 'b.pt')).message).toMatch(/compression method 12/);
    const many = zip.slice();
    view(many).setUint16(many.length - 12, MAX_ZIP_ENTRIES + 1, true);
    view(many).setUint16(many.length - 14, MAX_ZIP_ENTRIES + 1, true);
    expect(refusal(() => ZipArchive.open(many, 'n.pt')).message).toMatch(/holds 4097 entries/);
  });

  it('refuses a DEFLATE entry that claims to inflate past 16× the archive', () => {
    const zip = zipSync({ 'x/data.pkl': [new Uint8Array(100), { level: 6 }] });
    const view = new DataView(zip.buffer, zip.byteOffset);
    view.setUint32(centralEntry(zip, 0) + 24, 1 << 30, true);
    expect(refusal(() => ZipArchive.open(zip, 'bomb.pt').read('x/data.pkl')).message).toMatch(/would inflate to 1073741824 bytes, more than 16× the archive/);
  });
});
