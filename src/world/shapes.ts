/**
 * The shapes world's shapes (world.md "Shapes"): inside-tests in the object's unit frame
 * u = (X-cx)/r, v = (Y-cy)/r (v down), for the 8 training shapes and the 2 held-out ones, and the
 * 2 held-out fill patterns that pick colour1 or colour2 per sub-pixel.
 */

export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'star', 'heart', 'ring', 'cross', 'diamond'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

export const HELD_OUT_SHAPE_NAMES = ['crescent', 'arrow'] as const;
export type HeldOutShapeName = (typeof HELD_OUT_SHAPE_NAMES)[number];
export type AnyShapeName = ShapeName | HeldOutShapeName;

export const PATTERN_KINDS = ['striped', 'checkered'] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

/** Vertices as flat coordinate arrays (the polygon test runs ~10^6 times per analysis). */
interface Polygon {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
}

const polygon = (points: readonly (readonly [number, number])[]): Polygon => ({ xs: Float64Array.from(points, (p) => p[0]), ys: Float64Array.from(points, (p) => p[1]) });

const TRIANGLE = polygon([[0, -1], [-1, 0.8], [1, 0.8]]);

const STAR = polygon(
  Array.from({ length: 10 }, (_, k) => {
    const rho = k % 2 === 0 ? 1 : 0.45;
    const a = (k * Math.PI) / 5;
    return [rho * Math.sin(a), -rho * Math.cos(a)] as const;
  }),
);

const HEART = polygon(
  Array.from({ length: 64 }, (_, k) => {
    const t = (2 * Math.PI * k) / 64;
    const x = (16 * Math.sin(t) ** 3) / 17;
    const y = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t)) / 17 - 0.1;
    return [x, y] as const;
  }),
);

const ARROW = polygon([[-1, -0.25], [0.15, -0.25], [0.15, -0.75], [1, 0], [0.15, 0.75], [0.15, 0.25], [-1, 0.25]]);

/** Writes where the edges crossing row v cross it (world.md's xint, for each edge with (y1>v) != (y2>v)) into `out`; returns how many. */
function crossings({ xs, ys }: Polygon, v: number, out: Float64Array): number {
  let count = 0;
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    const j = i + 1 === n ? 0 : i + 1;
    const y1 = ys[i];
    const y2 = ys[j];
    if (y1 > v !== y2 > v) out[count++] = ((xs[j] - xs[i]) * (v - y1)) / (y2 - y1) + xs[i];
  }
  return count;
}

/** Even-odd rule: inside when u < xint for an odd number of the row's crossings. */
function oddLeftOf(xints: Float64Array, count: number, u: number): boolean {
  let inside = false;
  for (let k = 0; k < count; k++) if (u < xints[k]) inside = !inside;
  return inside;
}

const POLYGONS: Partial<Record<AnyShapeName, Polygon>> = { triangle: TRIANGLE, star: STAR, heart: HEART, arrow: ARROW };

/**
 * The inside-test one row at a time, without allocating: `setRow(shape, v)` finds a polygon's
 * crossings of the row once, then `inside(u)` gives exactly insideShape(shape, u, v).
 */
export class RowTester {
  private readonly xints = new Float64Array(64);
  private count = 0;
  private polygon: Polygon | undefined;
  private shape: AnyShapeName = 'circle';
  private v = 0;

  setRow(shape: AnyShapeName, v: number): void {
    this.shape = shape;
    this.v = v;
    this.polygon = POLYGONS[shape];
    if (this.polygon) this.count = crossings(this.polygon, v, this.xints);
  }

  inside(u: number): boolean {
    return this.polygon ? oddLeftOf(this.xints, this.count, u) : insideShape(this.shape, u, this.v);
  }
}

const scratch = new Float64Array(64);
const insidePolygon = (poly: Polygon, u: number, v: number) => oddLeftOf(scratch, crossings(poly, v, scratch), u);

/** Whether the point (u, v) of the unit frame lies inside `shape`. */
export function insideShape(shape: AnyShapeName, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
    case 'triangle':
      return insidePolygon(TRIANGLE, u, v);
    case 'star':
      return insidePolygon(STAR, u, v);
    case 'heart':
      return insidePolygon(HEART, u, v);
    case 'ring': {
      const d = u * u + v * v;
      return 0.55 * 0.55 <= d && d <= 1;
    }
    case 'cross':
      return (Math.abs(u) <= 0.33 && Math.abs(v) <= 1) || (Math.abs(v) <= 0.33 && Math.abs(u) <= 1);
    case 'diamond':
      return Math.abs(u) + Math.abs(v) <= 1;
    case 'crescent':
      return u * u + v * v <= 1 && (u - 0.45) ** 2 + (v + 0.1) ** 2 > 0.8 * 0.8;
    case 'arrow':
      return insidePolygon(ARROW, u, v);
  }
}

/**
 * Whether a pattern gives the point colour1 (else colour2). striped: 6 horizontal bands over
 * v in [-1, 1], the top one colour1; checkered: a 4x4 board over [-0.85, 0.85]², top-left colour1.
 */
export function patternPicksFirst(kind: PatternKind, u: number, v: number): boolean {
  if (kind === 'striped') return Math.floor((v + 1) / (2 / 6)) % 2 === 0;
  return (Math.floor((u + 0.85) / (1.7 / 4)) + Math.floor((v + 0.85) / (1.7 / 4))) % 2 === 0;
}
