/**
 * A JPEG's EXIF orientation (tag 0x0112 of the first IFD), and the image turned upright by it,
 * as browsers draw photos (`image-orientation: from-image`): phones store photos sideways and
 * say so there.
 */

/** An RGBA image with 8 or 16 bits per channel. */
export interface Pixels {
  width: number;
  height: number;
  /** RGBA, row-major, straight (not premultiplied) alpha. */
  rgba: Uint8Array | Uint8ClampedArray | Uint16Array;
  /** The value of full intensity: 255 or 65535. */
  max: number;
}

/** The orientation 1–8 of a JPEG's EXIF data; 1 (as stored) when it has none. */
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

type Source = (x: number, y: number, w: number, h: number) => [number, number];

/** Per orientation, the stored pixel shown at (x, y) of a w × h stored image. */
const SOURCES: Source[] = [
  (x, y) => [x, y],
  (x, y) => [x, y],
  (x, y, w) => [w - 1 - x, y],
  (x, y, w, h) => [w - 1 - x, h - 1 - y],
  (x, y, _w, h) => [x, h - 1 - y],
  (x, y) => [y, x],
  (x, y, _w, h) => [y, h - 1 - x],
  (x, y, w, h) => [w - 1 - y, h - 1 - x],
  (x, y, w) => [w - 1 - y, x],
];

/** `image` as orientation `o` says it is to be shown (5–8 swap width and height). */
export function orient(image: Pixels, o: number): Pixels {
  if (o <= 1 || o > 8) return image;
  const { width: w, height: h, rgba } = image;
  const swap = o >= 5;
  const [ow, oh] = swap ? [h, w] : [w, h];
  const source = SOURCES[o];
  const out = new (rgba.constructor as Uint8ArrayConstructor)(rgba.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const [sx, sy] = source(x, y, w, h);
      const from = (sy * w + sx) * 4;
      out.set(rgba.subarray(from, from + 4), (y * ow + x) * 4);
    }
  }
  return { width: ow, height: oh, rgba: out, max: image.max };
}
