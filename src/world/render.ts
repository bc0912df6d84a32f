/**
 * The shapes world's renderer (world.md "Image geometry"): background fill, objects painted in
 * order with hard inside-tests on a 2x2 sub-pixel grid, each block averaged and rounded half to
 * even as numpy does; and the analyzer's templates, one binary test per pixel centre.
 */
import type { Rgb } from './palette';
import { insideShape, patternPicksFirst, type AnyShapeName, type PatternKind } from './shapes';

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

/** The colour the scene gives the point (X, Y) in pixel units. */
function colorAt(scene: WorldScene, X: number, Y: number): Rgb {
  let color = scene.background;
  for (const o of scene.objects) {
    const u = (X - o.cx) / o.r;
    const v = (Y - o.cy) / o.r;
    if (!insideShape(o.shape, u, v)) continue;
    color = o.pattern && !patternPicksFirst(o.pattern.kind, u, v) ? o.pattern.color2 : o.color;
  }
  return color;
}

/** The scene at 64x64 with 2x2 super-sampling: sub-pixel (i, j) of the 128² grid has centre ((i+0.5)/2, (j+0.5)/2). */
export function renderScene(scene: WorldScene, size = WORLD_SIZE): WorldImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 2 * y; j < 2 * y + 2; j++) {
        for (let i = 2 * x; i < 2 * x + 2; i++) {
          const c = colorAt(scene, (i + 0.5) / 2, (j + 0.5) / 2);
          r += c[0];
          g += c[1];
          b += c[2];
        }
      }
      const p = (y * size + x) * 4;
      data[p] = roundHalfEven(r / 4);
      data[p + 1] = roundHalfEven(g / 4);
      data[p + 2] = roundHalfEven(b / 4);
      data[p + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}

/**
 * Calls `visit(x, y)` for every pixel of a `width`x`height` image whose centre (x+0.5, y+0.5) is
 * inside the shape, looking only at the shape's bounding box (every shape lies within |u|, |v| <= 1).
 */
export function forEachTemplatePixel(shape: AnyShapeName, cx: number, cy: number, r: number, width: number, height: number, visit: (x: number, y: number) => void): void {
  const x0 = Math.max(0, Math.floor(cx - r - 0.5) - 1);
  const x1 = Math.min(width - 1, Math.ceil(cx + r - 0.5) + 1);
  const y0 = Math.max(0, Math.floor(cy - r - 0.5) - 1);
  const y1 = Math.min(height - 1, Math.ceil(cy + r - 0.5) + 1);
  for (let y = y0; y <= y1; y++) {
    const v = (y + 0.5 - cy) / r;
    for (let x = x0; x <= x1; x++) if (insideShape(shape, (x + 0.5 - cx) / r, v)) visit(x, y);
  }
}

/** The analyzer's template: 1 where the pixel centre is inside the shape, no super-sampling. */
export function renderTemplate(shape: AnyShapeName, cx: number, cy: number, r: number, width = WORLD_SIZE, height = WORLD_SIZE): Uint8Array {
  const mask = new Uint8Array(width * height);
  forEachTemplatePixel(shape, cx, cy, r, width, height, (x, y) => {
    mask[y * width + x] = 1;
  });
  return mask;
}
