/**
 * An image turned upright by its EXIF orientation (read by `engine/image-header.ts`), as browsers
 * draw photos (`image-orientation: from-image`): phones store photos sideways and say so there.
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
