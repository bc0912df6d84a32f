/**
 * An image's size read from its header bytes, before anything is decoded (PNG IHDR, JPEG SOF,
 * WebP VP8/VP8L/VP8X, GIF, BMP), and a JPEG's EXIF orientation. Plain TypeScript: the page and
 * the CLI both read it, so a huge image is refused without being decoded.
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp';

export interface ImageHeader {
  format: ImageFormat;
  /** As stored, before any EXIF orientation. */
  width: number;
  height: number;
  /** EXIF orientation 1–8 (JPEG only; 1 otherwise): 5–8 show the image turned a quarter. */
  orientation: number;
}

/** The header of a PNG, JPEG, WebP, GIF or BMP image; null for anything else or a header cut short. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
  const sized = (format: ImageFormat, width: number, height: number, orientation = 1): ImageHeader | null =>
    width > 0 && height > 0 ? { format, width, height, orientation } : null;
  if (bytes.length >= 24 && bytes[0] === 0x89 && ascii(1, 3) === 'PNG' && ascii(12, 4) === 'IHDR') return sized('png', view.getUint32(16), view.getUint32(20));
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegHeader(bytes, view);
  if (bytes.length >= 10 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return sized('gif', view.getUint16(6, true), view.getUint16(8, true));
  if (bytes.length >= 25 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8 ' && bytes.length >= 30 && bytes[23] === 0x9d && bytes[24] === 0x01 && bytes[25] === 0x2a) return sized('webp', view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    if (chunk === 'VP8L' && bytes[20] === 0x2f) {
      const bits = view.getUint32(21, true);
      return sized('webp', (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
    }
    const u24 = (at: number) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
    if (chunk === 'VP8X' && bytes.length >= 30) return sized('webp', u24(24) + 1, u24(27) + 1);
    return null;
  }
  if (bytes.length >= 26 && ascii(0, 2) === 'BM') return sized('bmp', Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true)));
  return null;
}

/** Width and height as the image is shown: orientations 5–8 swap them. */
export function shownSize(header: ImageHeader): { width: number; height: number } {
  return header.orientation >= 5 ? { width: header.height, height: header.width } : { width: header.width, height: header.height };
}

/** Start-of-frame markers: C0–CF but for DHT (C4), JPG (C8) and DAC (CC). */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegHeader(jpeg: Uint8Array, view: DataView): ImageHeader | null {
  for (let at = 2; at + 9 <= jpeg.length; ) {
    if (jpeg[at] !== 0xff) return null;
    const marker = jpeg[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (isStartOfFrame(marker)) return view.getUint16(at + 7) > 0 && view.getUint16(at + 5) > 0 ? { format: 'jpeg', width: view.getUint16(at + 7), height: view.getUint16(at + 5), orientation: jpegOrientation(jpeg) } : null;
    if (marker === 0xda || marker === 0xd9) return null; // scan or end before any frame
    at += marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) ? 2 : 2 + view.getUint16(at + 2);
  }
  return null;
}

/** The orientation 1–8 of a JPEG's EXIF data (tag 0x0112 of the first IFD); 1 (as stored) when it has none. */
export function jpegOrientation(jpeg: Uint8Array): number {
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at] === 0xff; ) {
    const marker = jpeg[at + 1];
    const length = view.getUint16(at + 2);
    if (marker === 0xda) break; // start of scan: no more metadata
    const exif = at + 4;
    if (marker === 0xe1 && String.fromCharCode(...jpeg.subarray(exif, exif + 4)) === 'Exif' && exif + 14 <= jpeg.length) {
      const tiff = exif + 6;
      const little = jpeg[tiff] === 0x49; // 'II'
      const u16 = (p: number) => view.getUint16(p, little);
      const ifd = tiff + view.getUint32(tiff + 4, little);
      if (ifd + 2 > jpeg.length) return 1;
      for (let i = 0, n = u16(ifd); i < n && ifd + 14 + i * 12 <= jpeg.length; i++) {
        const entry = ifd + 2 + i * 12;
        if (u16(entry) === 0x0112) {
          const value = u16(entry + 8);
          return value >= 1 && value <= 8 ? value : 1;
        }
      }
      return 1;
    }
    at += 2 + length;
  }
  return 1;
}
