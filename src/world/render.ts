/**
 * The shapes world's renderer (world.md "Image geometry"): background fill, objects painted in
 * order with hard inside-tests on a 2x2 sub-pixel grid, each block averaged and rounded half to
 * even as numpy does; and the analyzer's templates, one binary test per pixel centre.
 */
import type { Rgb } from './palette';
import { patternPicksFirst, RowTester, type AnyShapeName, type PatternKind } from './shapes';

export const WORLD_SIZE = 64;

export interface WorldObject {
  shape: AnyShapeName;
  cx: number;
  cy: number;
  r: number;
  color: Rgb;
  /** A held-out fill: `color` is colour1, `color2` the other. */
  pattern?: { kind: PatternKind; color2: Rgb };
}

export interface WorldScene {
  background: Rgb;
  objects: WorldObject[];
}

/** Structurally the studio's RgbaImage. */
export interface WorldImage {
  width: number;
  height: number;
  /** RGBA, alpha 255, row-major. */
  data: Uint8ClampedArray;
}

/** numpy's rounding of an exact quarter-multiple: half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The scene at 64x64 with 2x2 super-sampling: sub-pixel (i, j) of the 128² grid has centre ((i+0.5)/2, (j+0.5)/2). */
export function renderScene(scene: WorldScene, size = WORLD_SIZE): WorldImage {
  const sub = 2 * size;
  // Per sub-pixel colour, one sub-row at a time: background, then each object painted over it.
  const sums = new Float64Array(size * 3);
  const row: Rgb[] = new Array(sub);
  const data = new Uint8ClampedArray(size * size * 4);
  const tester = new RowTester();
  for (let j = 0; j < sub; j++) {
    const Y = (j + 0.5) / 2;
    row.fill(scene.background);
    for (const o of scene.objects) {
      const v = (Y - o.cy) / o.r;
      tester.setRow(o.shape, v);
      for (let i = 0; i < sub; i++) {
        const u = ((i + 0.5) / 2 - o.cx) / o.r;
        if (tester.inside(u)) row[i] = o.pattern && !patternPicksFirst(o.pattern.kind, u, v) ? o.pattern.color2 : o.color;
      }
    }
    for (let i = 0; i < sub; i++) for (let c = 0; c < 3; c++) sums[(i >> 1) * 3 + c] += row[i][c];
    if (j % 2 === 0) continue;
    const y = j >> 1;
    for (let x = 0; x < size; x++) {
      const p = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) data[p + c] = roundHalfEven(sums[x * 3 + c] / 4);
      data[p + 3] = 255;
    }
    sums.fill(0);
  }
  return { width: size, height: size, data };
}

/** The pixel box [x0, x1] x [y0, y1] (clipped) outside which no pixel centre is inside a shape of radius r at (cx, cy): all lie within |u|, |v| <= 1. */
function templateBox(cx: number, cy: number, r: number, width: number, height: number): [number, number, number, number] {
  return [
    Math.max(0, Math.floor(cx - r - 0.5) - 1),
    Math.min(width - 1, Math.ceil(cx + r - 0.5) + 1),
    Math.max(0, Math.floor(cy - r - 0.5) - 1),
    Math.min(height - 1, Math.ceil(cy + r - 0.5) + 1),
  ];
}

const tester = new RowTester();

/**
 * The analyzer's template (pixel centres, no super-sampling) against a mask: how many pixels the
 * template holds and how many of them the mask holds too, looking only inside the template's box.
 */
export function templateOverlap(shape: AnyShapeName, cx: number, cy: number, r: number, mask: Uint8Array, width: number, height: number): { inside: number; overlap: number } {
  const [x0, x1, y0, y1] = templateBox(cx, cy, r, width, height);
  let inside = 0;
  let overlap = 0;
  for (let y = y0; y <= y1; y++) {
    tester.setRow(shape, (y + 0.5 - cy) / r);
    for (let x = x0; x <= x1; x++) {
      if (!tester.inside((x + 0.5 - cx) / r)) continue;
      inside++;
      overlap += mask[y * width + x];
    }
  }
  return { inside, overlap };
}

/** The analyzer's template as a mask: 1 where the pixel centre is inside the shape, no super-sampling. */
export function renderTemplate(shape: AnyShapeName, cx: number, cy: number, r: number, width = WORLD_SIZE, height = WORLD_SIZE): Uint8Array {
  const mask = new Uint8Array(width * height);
  const [x0, x1, y0, y1] = templateBox(cx, cy, r, width, height);
  for (let y = y0; y <= y1; y++) {
    tester.setRow(shape, (y + 0.5 - cy) / r);
    for (let x = x0; x <= x1; x++) mask[y * width + x] = tester.inside((x + 0.5 - cx) / r) ? 1 : 0;
  }
  return mask;
}
