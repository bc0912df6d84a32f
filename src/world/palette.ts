/**
 * The shapes world's colours (world.md "Colours"): the 10 training colours, the 2 held-out ones
 * (never in training data), Euclidean RGB distance, nearest-colour naming, and the rule that an
 * object's colour lies at distance >= 100 from its background.
 */

export type Rgb = readonly [number, number, number];

export const COLOR_NAMES = ['red', 'green', 'blue', 'yellow', 'pink', 'purple', 'orange', 'white', 'black', 'gray'] as const;
export type ColorName = (typeof COLOR_NAMES)[number];

export const HELD_OUT_COLOR_NAMES = ['teal', 'brown'] as const;
export type HeldOutColorName = (typeof HELD_OUT_COLOR_NAMES)[number];
export type AnyColorName = ColorName | HeldOutColorName;

export const COLORS: Readonly<Record<ColorName, Rgb>> = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [245, 215, 40],
  pink: [250, 140, 200],
  purple: [135, 55, 185],
  orange: [250, 135, 20],
  white: [245, 245, 245],
  black: [20, 20, 20],
  gray: [128, 128, 128],
};

export const HELD_OUT_COLORS: Readonly<Record<HeldOutColorName, Rgb>> = {
  teal: [0, 140, 140],
  brown: [120, 70, 30],
};

export interface PaletteEntry {
  readonly name: AnyColorName;
  readonly rgb: Rgb;
}
export type Palette = readonly PaletteEntry[];

/** The analyzer's palette for training prompts. */
export const TRAINING_PALETTE: Palette = COLOR_NAMES.map((name) => ({ name, rgb: COLORS[name] }));
/** The analyzer's palette for held-out scoring: the 10 training colours + teal + brown. */
export const HELD_OUT_PALETTE: Palette = [...TRAINING_PALETTE, ...HELD_OUT_COLOR_NAMES.map((name) => ({ name, rgb: HELD_OUT_COLORS[name] }))];

/** The least distance between an object's colour and its background. */
export const MIN_OBJECT_BG_DISTANCE = 100;

export function colorDistance(a: Rgb, b: Rgb): number {
  const [dr, dg, db] = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

/** The palette entry nearest `rgb` (the first one on a tie). */
export function nearestColor(rgb: Rgb, palette: Palette = TRAINING_PALETTE): PaletteEntry {
  let best = palette[0];
  let bestDistance = Infinity;
  for (const entry of palette) {
    const d = colorDistance(rgb, entry.rgb);
    if (d < bestDistance) [best, bestDistance] = [entry, d];
  }
  return best;
}

/** The training colours an object may take on `background`: those at distance >= 100 from it. */
export function objectColorsFor(background: Rgb): ColorName[] {
  return COLOR_NAMES.filter((name) => colorDistance(COLORS[name], background) >= MIN_OBJECT_BG_DISTANCE);
}
