/**
 * The shapes world's held-out fidelity metrics (world.md "Held-out fidelity metrics"): a generated
 * image against a concept's canonical image C and colours, analyzed with the training palette
 * plus teal and brown; and two helpers for the benchmark (nearest-photo L1, attribute hits).
 */
import { analyze, type Analysis } from './analyzer';
import type { PositionName, SizeName } from './captions';
import { colorDistance, HELD_OUT_PALETTE, type AnyColorName, type Rgb } from './palette';
import type { WorldImage } from './render';

/** fg_color_dist when there is no object: the largest RGB distance, sqrt(3)·255, as world.md rounds it. */
export const NO_OBJECT_COLOR_DIST = 441.7;
/** two_color_balance counts a mask pixel for a colour within this distance. */
export const BALANCE_RADIUS = 80;

/** The analysis held-out scoring uses: palette = 10 training colours + teal + brown. */
export const analyzeHeldOut = (image: WorldImage): Analysis => analyze(image, HELD_OUT_PALETTE);

/** IoU of two masks (0 when both are empty). */
export function maskIou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    union += a[i] | b[i];
  }
  return union > 0 ? inter / union : 0;
}

/** Distance of the analyzed background (border median) to the concept's. */
export function bgDist(analysis: Analysis, background: Rgb): number {
  return colorDistance(analysis.background.rgb, background);
}

/** Each mask pixel's RGB, in order. */
function maskColors(image: WorldImage, mask: Uint8Array): Rgb[] {
  const out: Rgb[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push([image.data[i * 4], image.data[i * 4 + 1], image.data[i * 4 + 2]]);
  return out;
}

/**
 * One colour: distance of the median mask colour to it; two colours: mean over mask pixels of the
 * distance to the nearer one; 441.7 when the analyzer found no object.
 */
export function fgColorDist(image: WorldImage, analysis: Analysis, colors: readonly Rgb[]): number {
  if (!analysis.object) return NO_OBJECT_COLOR_DIST;
  if (colors.length === 1) return colorDistance(analysis.object.rgb, colors[0]);
  const pixels = maskColors(image, analysis.mask);
  return pixels.reduce((s, p) => s + Math.min(...colors.map((c) => colorDistance(p, c))), 0) / pixels.length;
}

/** min(1, 2·min(f1, f2)), f = fraction of mask pixels within 80 of each colour; 0 with no object. */
export function twoColorBalance(image: WorldImage, analysis: Analysis, colors: readonly [Rgb, Rgb] | readonly Rgb[]): number {
  if (!analysis.object) return 0;
  const pixels = maskColors(image, analysis.mask);
  const [f1, f2] = [colors[0], colors[1]].map((c) => pixels.filter((p) => colorDistance(p, c) <= BALANCE_RADIUS).length / pixels.length);
  return Math.min(1, 2 * Math.min(f1, f2));
}

/** Mean absolute difference over all pixels and RGB channels, 0..255. */
export function imgL1(a: WorldImage, b: WorldImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`imgL1: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) sum += Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]);
  return sum / (a.width * a.height * 3);
}

export interface HeldOutScores {
  maskIou: number;
  bgDist: number;
  fgColorDist: number;
  /** Two-colour concepts only. */
  twoColorBalance?: number;
  imgL1: number;
}

/** All of world.md's held-out metrics of `image` against a concept's canonical image, background and colours. */
export function heldOutScores(image: WorldImage, concept: { canonical: WorldImage; background: Rgb; colors: readonly Rgb[] }): HeldOutScores {
  const a = analyzeHeldOut(image);
  const c = analyzeHeldOut(concept.canonical);
  return {
    maskIou: maskIou(a.mask, c.mask),
    bgDist: bgDist(a, concept.background),
    fgColorDist: fgColorDist(image, a, concept.colors),
    ...(concept.colors.length === 2 && { twoColorBalance: twoColorBalance(image, a, concept.colors) }),
    imgL1: imgL1(image, concept.canonical),
  };
}

/** Whole-image L1 to the nearest of `photos` (e.g. to tell copying from generalizing), with its index. */
export function nearestL1(image: WorldImage, photos: readonly WorldImage[]): { l1: number; index: number } {
  let best = { l1: Infinity, index: -1 };
  photos.forEach((photo, index) => {
    const l1 = imgL1(image, photo);
    if (l1 < best.l1) best = { l1, index };
  });
  return best;
}

export interface WantedAttributes {
  background?: AnyColorName;
  color?: AnyColorName;
  position?: PositionName;
  size?: SizeName;
}

/** For each wanted attribute, whether the analysis found it (false when there is no object). */
export function attributeHits(analysis: Analysis, wanted: WantedAttributes): { [K in keyof WantedAttributes]?: boolean } {
  const hits: { [K in keyof WantedAttributes]?: boolean } = {};
  if (wanted.background !== undefined) hits.background = analysis.background.name === wanted.background;
  if (wanted.color !== undefined) hits.color = analysis.object?.color === wanted.color;
  if (wanted.position !== undefined) hits.position = analysis.object?.position === wanted.position;
  if (wanted.size !== undefined) hits.size = analysis.object?.size === wanted.size;
  return hits;
}
