/**
 * Image files cut to their headers (what a reader sees before the pixels), for any size: a
 * 20000 × 20000 PNG header takes 33 bytes. The pixels after it are missing, so none decodes.
 */

const u16be = (v: number) => [v >> 8, v & 0xff];
const u16le = (v: number) => [v & 0xff, v >> 8];
const u24le = (v: number) => [v & 0xff, (v >> 8) & 0xff, v >> 16];
const u32be = (v: number) => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const u32le = (v: number) => u32be(v).reverse();
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Signature and IHDR (RGBA, 8 bits), CRC left zero. */
export function pngHeader(width: number, height: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([0x89, ...ascii('PNG'), 0x0d, 0x0a, 0x1a, 0x0a, ...u32be(13), ...ascii('IHDR'), ...u32be(width), ...u32be(height), 8, 6, 0, 0, 0, 0, 0, 0, 0]);
}

/** SOI, a JFIF APP0, then a baseline or progressive frame header (3 components). */
export function jpegHeader(width: number, height: number, { progressive = false } = {}): Uint8Array<ArrayBuffer> {
  const app0 = [0xff, 0xe0, ...u16be(16), ...ascii('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof = [0xff, progressive ? 0xc2 : 0xc0, ...u16be(17), 8, ...u16be(height), ...u16be(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof]);
}

export function gifHeader(width: number, height: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([...ascii('GIF89a'), ...u16le(width), ...u16le(height), 0, 0, 0]);
}

export function bmpHeader(width: number, height: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([...ascii('BM'), ...u32le(0), 0, 0, 0, 0, ...u32le(54), ...u32le(40), ...u32le(width), ...u32le(height), 1, 0, 24, 0]);
}

/** A WebP RIFF header with its first chunk: lossy (VP8), lossless (VP8L) or extended (VP8X). */
export function webpHeader(kind: 'VP8 ' | 'VP8L' | 'VP8X', width: number, height: number): Uint8Array<ArrayBuffer> {
  let chunk: number[];
  if (kind === 'VP8 ') chunk = [0, 0, 0, 0x9d, 0x01, 0x2a, ...u16le(width), ...u16le(height)];
  else if (kind === 'VP8L') chunk = [0x2f, ...u32le(((width - 1) | ((height - 1) << 14)) >>> 0)];
  else chunk = [0, 0, 0, 0, ...u24le(width - 1), ...u24le(height - 1)];
  return Uint8Array.from([...ascii('RIFF'), ...u32le(4 + 8 + chunk.length), ...ascii('WEBP'), ...ascii(kind), ...u32le(chunk.length), ...chunk]);
}
