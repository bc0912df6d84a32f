/**
 * The shapes world's deterministic scorer (world.md "Analyzer", steps 1-7): border-median
 * background, distance-50 foreground mask, median object colour, centroid position, P2-P98 extent
 * size, and the shape whose pixel-centre template best overlaps the mask (IoU).
 */
import { SIZE_RADIUS, type PositionName, type SizeName } from './captions';
import { colorDistance, nearestColor, TRAINING_PALETTE, type AnyColorName, type Palette, type Rgb } from './palette';
import { templateOverlap, type WorldImage } from './render';
import { SHAPE_NAMES, type AnyShapeName } from './shapes';

/** Mask: distance to the background above this; object: at least MIN_OBJECT_PIXELS mask pixels; large: extent at least this. */
export const MASK_THRESHOLD = 50;
export const MIN_OBJECT_PIXELS = 12;
export const LARGE_EXTENT = 27;

export interface AnalyzedObject {
  rgb: Rgb;
  color: AnyColorName;
  cx: number;
  cy: number;
  position: PositionName;
  extent: number;
  size: SizeName;
  shape: AnyShapeName;
  /** The best template's IoU with the mask. */
  iou: number;
}

export interface Analysis {
  background: { rgb: Rgb; name: AnyColorName };
  /** 1 where the pixel is foreground, row-major width x height. */
  mask: Uint8Array;
  maskPixels: number;
  /** null: fewer than 12 mask pixels, "no object". */
  object: AnalyzedObject | null;
}

/** numpy's median: the mean of the two middle values of an even count. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** numpy's default (linear) percentile of sorted values, p in 0..100. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

const pixel = (image: WorldImage, x: number, y: number): Rgb => {
  const p = (y * image.width + x) * 4;
  return [image.data[p], image.data[p + 1], image.data[p + 2]];
};

/** Step 1: per-channel median of top 2 rows, bottom 2 rows, left 2 columns, right 2 columns (corners counted again). */
export function borderColor(image: WorldImage): Rgb {
  const { width: w, height: h } = image;
  const border: Rgb[] = [];
  for (const y of [0, 1, h - 2, h - 1]) for (let x = 0; x < w; x++) border.push(pixel(image, x, y));
  for (const x of [0, 1, w - 2, w - 1]) for (let y = 0; y < h; y++) border.push(pixel(image, x, y));
  return [0, 1, 2].map((c) => median(border.map((p) => p[c]))) as unknown as Rgb;
}

/** Step 2: pixels farther than 50 from `background`. */
export function foregroundMask(image: WorldImage, background: Rgb): Uint8Array {
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) {
    const d = image.data;
    mask[i] = colorDistance([d[i * 4], d[i * 4 + 1], d[i * 4 + 2]], background) > MASK_THRESHOLD ? 1 : 0;
  }
  return mask;
}

export function positionOf(cx: number, cy: number): PositionName {
  const [dx, dy] = [cx - 32, cy - 32];
  if (Math.max(Math.abs(dx), Math.abs(dy)) < 6) return 'center';
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? 'right' : 'left';
  return dy > 0 ? 'bottom' : 'top';
}

/** Step 7: the shape (of `shapes`) whose template, over radii and centre offsets, has the best IoU with the mask (first on ties). */
export function bestShape(mask: Uint8Array, width: number, height: number, maskPixels: number, cx: number, cy: number, size: SizeName, shapes: readonly AnyShapeName[] = SHAPE_NAMES): { shape: AnyShapeName; iou: number } {
  let best = { shape: shapes[0], iou: -1 };
  for (const shape of shapes) {
    for (let dr = -2; dr <= 2; dr++) {
      for (const ox of [-1, 0, 1]) {
        for (const oy of [-1, 0, 1]) {
          const { inside, overlap } = templateOverlap(shape, cx + 1.5 * ox, cy + 1.5 * oy, SIZE_RADIUS[size] + dr, mask, width, height);
          const union = maskPixels + inside - overlap;
          const iou = union > 0 ? overlap / union : 0;
          if (iou > best.iou) best = { shape, iou };
        }
      }
    }
  }
  return best;
}

/** Steps 1-7 on one image; colours named from `palette`, shapes chosen among `shapes`. */
export function analyze(image: WorldImage, palette: Palette = TRAINING_PALETTE, shapes: readonly AnyShapeName[] = SHAPE_NAMES): Analysis {
  const { width, height } = image;
  const bg = borderColor(image);
  const background = { rgb: bg, name: nearestColor(bg, palette).name };
  const mask = foregroundMask(image, bg);
  const xs: number[] = [];
  const ys: number[] = [];
  const channels: number[][] = [[], [], []];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      xs.push(x);
      ys.push(y);
      const p = pixel(image, x, y);
      for (let c = 0; c < 3; c++) channels[c].push(p[c]);
    }
  }
  const maskPixels = xs.length;
  if (maskPixels < MIN_OBJECT_PIXELS) return { background, mask, maskPixels, object: null };
  const rgb = channels.map(median) as unknown as Rgb;
  const cx = xs.reduce((s, x) => s + x, 0) / maskPixels + 0.5;
  const cy = ys.reduce((s, y) => s + y, 0) / maskPixels + 0.5;
  const spread = (values: number[]) => {
    const s = Float64Array.from(values).sort();
    return percentile(s, 98) - percentile(s, 2);
  };
  const extent = Math.max(spread(xs), spread(ys)) + 1;
  const size: SizeName = extent >= LARGE_EXTENT ? 'large' : 'small';
  const { shape, iou } = bestShape(mask, width, height, maskPixels, cx, cy, size, shapes);
  return { background, mask, maskPixels, object: { rgb, color: nearestColor(rgb, palette).name, cx, cy, position: positionOf(cx, cy), extent, size, shape, iou } };
}
