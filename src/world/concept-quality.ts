/**
 * Scores of generated shapes-world images against a sample concept, with the world's analyzer:
 * fidelity (world.md's held-out metrics and the nearest training photo), editability (did the
 * asked-for background / position / size come out), composition (does each half of a two-concept
 * image carry its concept's colours).
 */
import { colorDistance, type Rgb } from './palette';
import { analyzeHeldOut, attributeHits, BALANCE_RADIUS, heldOutScores, nearestL1, type WantedAttributes } from './metrics';
import { borderColor } from './analyzer';
import type { WorldImage } from './render';
import { canonicalImage, type SampleConcept } from './sample-concepts';

export interface FidelityScores {
  /** Foreground colour distance to the concept's colour(s) (lower is better). */
  fgColorDist: number;
  /** Mask IoU against the concept's canonical image (higher is better). */
  maskIou: number;
  /** Whole-image L1 (0..255) to the nearest training photo (lower is nearer a copy). */
  nearestPhotoL1: number;
  /** Background colour distance to the concept photos' background. */
  bgDist: number;
  /** Two-colour concepts: both colours present (0..1). */
  twoColorBalance?: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

export function fidelity(images: readonly WorldImage[], concept: SampleConcept, photos: readonly WorldImage[]): FidelityScores {
  const canonical = canonicalImage(concept);
  const each = images.map((image) => ({ ...heldOutScores(image, { canonical, background: concept.background, colors: concept.colors }), nearestPhotoL1: nearestL1(image, photos).l1 }));
  const scores: FidelityScores = {
    fgColorDist: mean(each.map((s) => s.fgColorDist)),
    maskIou: mean(each.map((s) => s.maskIou)),
    nearestPhotoL1: mean(each.map((s) => s.nearestPhotoL1)),
    bgDist: mean(each.map((s) => s.bgDist)),
  };
  if (concept.colors.length === 2) scores.twoColorBalance = mean(each.map((s) => s.twoColorBalance ?? 0));
  return scores;
}

/** Per attribute, the fraction of images where it came out as asked (attributes no prompt asked for are left out). */
export type AttributeAccuracy = { [K in keyof WantedAttributes]?: number };

export function editability(results: readonly { images: readonly WorldImage[]; wanted: WantedAttributes }[]): AttributeAccuracy {
  const hits = new Map<string, boolean[]>();
  for (const { images, wanted } of results) {
    for (const image of images) {
      for (const [key, hit] of Object.entries(attributeHits(analyzeHeldOut(image), wanted))) hits.set(key, [...(hits.get(key) ?? []), hit === true]);
    }
  }
  return Object.fromEntries([...hits].map(([key, h]) => [key, h.filter(Boolean).length / h.length]));
}

/** Mean distance of a half's foreground pixels to the nearer of `colors` (Infinity when the half has none). */
function halfColorDist(image: WorldImage, background: Rgb, x0: number, x1: number, colors: readonly Rgb[]): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      const p: Rgb = [image.data[i], image.data[i + 1], image.data[i + 2]];
      if (colorDistance(p, background) <= 50) continue;
      sum += Math.min(...colors.map((c) => colorDistance(p, c)));
      n++;
    }
  }
  return n >= 12 ? sum / n : Infinity;
}

/** Fraction of halves (left = first concept, right = second) whose foreground is within 80 of its concept's colours. */
export function composition(images: readonly WorldImage[], left: SampleConcept, right: SampleConcept): number {
  let hits = 0;
  for (const image of images) {
    const background = borderColor(image);
    const half = image.width / 2;
    if (halfColorDist(image, background, 0, half, left.colors) <= BALANCE_RADIUS) hits++;
    if (halfColorDist(image, background, half, image.width, right.colors) <= BALANCE_RADIUS) hits++;
  }
  return hits / (2 * images.length);
}

/** Fidelity and editability of one set of images: what an evaluation on the built-in model adds. */
export interface ConceptQuality {
  fidelity: FidelityScores;
  editability: AttributeAccuracy;
}
