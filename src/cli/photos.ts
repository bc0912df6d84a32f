/**
 * Training photos from a folder, as the page makes them from dropped files (ui/photos.ts): each
 * PNG or JPEG decoded (fast-png, jpeg-js; a JPEG turned upright by its EXIF orientation, as
 * browsers draw it), centre-cropped to a square, resized to the training resolution (area
 * average when shrinking, bilinear when enlarging, in premultiplied alpha as a canvas filters)
 * and laid out as the engine wants them: [N, 3, size, size], NCHW, values in [-1, 1].
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import { errorMessage, StudioError } from '../common/errors';
import { MAX_PHOTO_MEGAPIXELS, MAX_PHOTOS, photoRefusal, photosRefused, screenPhoto } from '../engine/photo-rules';
import { orient, type Pixels } from './orientation';

export type { Pixels };

export const PHOTO_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

const CLI_HINT = `Remove them from the folder, or save them again as PNG or JPEG of at most ${MAX_PHOTO_MEGAPIXELS} megapixels.`;

/** One photo's refusal, as the page words it (the studio decodes here, not a browser). */
class Refused extends Error {}

function refuse(message: string): never {
  throw new Refused(message);
}

/** A PNG or JPEG file's pixels, or its refusal: no image (told by its header, not its name), or over the pixel cap (before decoding). */
function photoPixels(bytes: Uint8Array, name: string): Pixels {
  const screened = screenPhoto(name, bytes);
  if ('refusal' in screened) refuse(screened.refusal);
  const format = screened.header?.format;
  if (format !== 'png' && format !== 'jpeg') refuse(photoRefusal.undecodable(name, 'the studio'));
  try {
    if (format === 'png') return pngPixels(bytes);
    const { width, height, data } = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PHOTO_MEGAPIXELS });
    return orient({ width, height, rgba: data, max: 255 }, screened.header!.orientation);
  } catch {
    return refuse(photoRefusal.undecodable(name, 'the studio'));
  }
}

/** Decodes a PNG or JPEG file's bytes (told apart by their header); `name` is for errors, a PhotoRefused error. */
export function decodePhoto(bytes: Uint8Array, name: string): Pixels {
  try {
    return photoPixels(bytes, name);
  } catch (error) {
    throw error instanceof Refused ? photosRefused([error.message], CLI_HINT) : error;
  }
}

function pngPixels(bytes: Uint8Array): Pixels {
  const png = decodePng(bytes);
  const { width, height } = png;
  if (png.palette) return expand(width, height, convertIndexedToRgb(png), png.palette[0].length, 255);
  const max = 2 ** png.depth - 1;
  if (png.depth >= 8) return expand(width, height, png.data, png.channels, max);
  // Grey at 1, 2 or 4 bits: rows are packed, each starting on a byte.
  const grey = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * png.depth) / 8);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * png.depth;
      grey[y * width + x] = (png.data[y * rowBytes + (bit >> 3)] >> (8 - png.depth - (bit & 7))) & max;
    }
  }
  return expand(width, height, grey, 1, max);
}

/** Grey, grey + alpha, RGB or RGBA samples as RGBA of the same depth. */
function expand(width: number, height: number, data: ArrayLike<number>, channels: number, max: number): Pixels {
  if (channels === 4) return { width, height, rgba: data as Pixels['rgba'], max };
  const rgba = max > 255 ? new Uint16Array(width * height * 4) : new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    const [r, g, b] = channels >= 3 ? [data[s], data[s + 1], data[s + 2]] : [data[s], data[s], data[s]];
    rgba.set([r, g, b, channels === 2 ? data[s + 1] : channels === 4 ? data[s + 3] : max], i * 4);
  }
  return { width, height, rgba, max };
}

type Taps = { index: number; weight: number }[];

/**
 * For each of `size` outputs along one axis, the source pixels and weights covering the span
 * [start, start + length): the area each covers when shrinking, the two nearest centres when enlarging.
 */
function axisTaps(start: number, length: number, size: number): Taps[] {
  const scale = length / size;
  const first = Math.floor(start);
  const last = Math.ceil(start + length) - 1;
  return Array.from({ length: size }, (_, i) => {
    if (scale >= 1) {
      const lo = start + i * scale;
      const hi = lo + scale;
      const taps: Taps = [];
      for (let j = Math.floor(lo); j < hi; j++) {
        const weight = Math.min(hi, j + 1) - Math.max(lo, j);
        if (weight > 1e-9) taps.push({ index: j, weight: weight / scale });
      }
      return taps;
    }
    const centre = start + (i + 0.5) * scale - 0.5;
    const j = Math.floor(centre);
    const t = centre - j;
    const clamp = (k: number) => Math.min(last, Math.max(first, k));
    return [
      { index: clamp(j), weight: 1 - t },
      { index: clamp(j + 1), weight: t },
    ];
  });
}

/** The centred square of `image`, resized to size × size: RGB planes [3, size, size] in [0, 1]. */
export function squarePlanes(image: Pixels, size: number): Float32Array {
  const { width, height, rgba, max } = image;
  const side = Math.min(width, height);
  const columns = axisTaps((width - side) / 2, side, size);
  const rows = axisTaps((height - side) / 2, side, size);
  // Horizontal pass over the rows the vertical pass reads, premultiplied: [row][x][r, g, b, a].
  const rowsUsed = new Map<number, Float32Array>();
  for (const rowTaps of rows) {
    for (const { index: y } of rowTaps) {
      if (rowsUsed.has(y)) continue;
      const line = new Float32Array(size * 4);
      columns.forEach((columnTaps, x) => {
        for (const { index, weight } of columnTaps) {
          const p = (y * width + index) * 4;
          const a = (rgba[p + 3] / max) * weight;
          line[x * 4] += (rgba[p] / max) * a;
          line[x * 4 + 1] += (rgba[p + 1] / max) * a;
          line[x * 4 + 2] += (rgba[p + 2] / max) * a;
          line[x * 4 + 3] += a;
        }
      });
      rowsUsed.set(y, line);
    }
  }
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  rows.forEach((taps, y) => {
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0, 0];
      for (const { index, weight } of taps) {
        const line = rowsUsed.get(index)!;
        for (let c = 0; c < 4; c++) acc[c] += line[x * 4 + c] * weight;
      }
      // Straight colour again; a fully transparent pixel is black, as a canvas reads it back.
      for (let c = 0; c < 3; c++) out[c * plane + y * size + x] = acc[3] > 0 ? Math.min(1, acc[c] / acc[3]) : 0;
    }
  });
  return out;
}

/** Photos as the engine's training input: [N, 3, size, size], NCHW, in [-1, 1]. */
export function photosToTensorData(images: readonly Pixels[], size: number): Float32Array {
  const out = new Float32Array(images.length * 3 * size * size);
  images.forEach((image, n) => out.set(squarePlanes(image, size).map((v) => v * 2 - 1), n * 3 * size * size));
  return out;
}

export interface PhotoFolder {
  /** The photos read, in name order. */
  files: string[];
  /** Other files in the folder (not PNG or JPEG by their extension), left out. */
  ignored: string[];
  /** Photos past the first MAX_PHOTOS (in name order), left out. */
  leftOut: string[];
  images: Float32Array;
}

/**
 * The first MAX_PHOTOS PNG and JPEG files in `dir` (by extension, hidden files skipped, name
 * order), at `size` × `size`; a PhotoRefused error listing every file that is no image or too large.
 */
export async function readPhotoFolder(dir: string, size: number): Promise<PhotoFolder> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new StudioError('InvalidRequest', `Cannot read the photo folder ${dir}: ${errorMessage(error)}`, 'Give --images a folder of PNG or JPEG photos.');
  }
  const names = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const photos = names.filter((n) => PHOTO_EXTENSIONS.includes(extname(n).toLowerCase()));
  if (photos.length === 0) throw new StudioError('InvalidRequest', `${dir} holds no PNG or JPEG photos.`, 'Give --images a folder of 3 to 5 photos of the concept.');
  const files = photos.slice(0, MAX_PHOTOS);
  const images: Pixels[] = [];
  const refusals: string[] = [];
  for (const name of files) {
    try {
      images.push(photoPixels(await readFile(join(dir, name)), join(dir, name)));
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      refusals.push(error.message);
    }
  }
  if (refusals.length > 0) throw photosRefused(refusals, CLI_HINT);
  return { files, ignored: names.filter((n) => !photos.includes(n)), leftOut: photos.slice(MAX_PHOTOS), images: photosToTensorData(images, size) };
}
