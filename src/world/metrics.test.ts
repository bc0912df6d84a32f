/**
 * The held-out metrics on hand-made pixel-exact images whose scores can be worked out by hand,
 * the canonical image against itself, the no-object case, the two-colour variants, and the
 * benchmark helpers.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from './analyzer';
import { analyzeHeldOut, attributeHits, bgDist, fgColorDist, heldOutScores, imgL1, maskIou, nearestL1, NO_OBJECT_COLOR_DIST, twoColorBalance } from './metrics';
import { COLORS, type Rgb } from './palette';
import type { WorldImage } from './render';

/** A background with axis-aligned rectangles [x0, x1) x [y0, y1) painted on it: no partial pixels. */
function canvas(background: Rgb, rects: [number, number, number, number, Rgb][] = []): WorldImage {
  const data = new Uint8ClampedArray(64 * 64 * 4);
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const rect = rects.findLast(([x0, x1, y0, y1]) => x >= x0 && x < x1 && y >= y0 && y < y1);
      data.set([...(rect ? rect[4] : background), 255], (y * 64 + x) * 4);
    }
  }
  return { width: 64, height: 64, data };
}

const { red, green, blue, white, gray } = COLORS;
/** The concept: a 20x20 red square, pixels 22..41 both ways, on white. */
const C = canvas(white, [[22, 42, 22, 42, red]]);
const concept = { canonical: C, background: white, colors: [red] };

describe('held-out metrics', () => {
  it('the canonical image against itself: mask IoU 1, distances 0, L1 0', () => {
    expect(heldOutScores(C, concept)).toEqual({ maskIou: 1, bgDist: 0, fgColorDist: 0, imgL1: 0 });
  });

  it('the same square in blue: only the colour scores change', () => {
    const s = heldOutScores(canvas(white, [[22, 42, 22, 42, blue]]), concept);
    expect(s.maskIou).toBe(1);
    expect(s.bgDist).toBe(0);
    expect(s.fgColorDist).toBeCloseTo(Math.sqrt(180 ** 2 + 40 ** 2 + 180 ** 2), 10); // 257.68
    expect(s.imgL1).toBeCloseTo((400 * (180 + 40 + 180)) / (4096 * 3), 10); // 13.02
  });

  it('the square moved 2 pixels right, and on a gray background', () => {
    const moved = heldOutScores(canvas(white, [[24, 44, 22, 42, red]]), concept);
    expect(moved.maskIou).toBeCloseTo(360 / 440, 12); // 18x20 shared of 22x20
    expect(moved.fgColorDist).toBe(0);
    expect(moved.imgL1).toBeCloseTo((80 * (25 + 205 + 205)) / 12288, 10); // 2 columns each side change
    const onGray = heldOutScores(canvas(gray, [[22, 42, 22, 42, red]]), concept);
    expect(onGray.maskIou).toBe(1);
    expect(onGray.bgDist).toBeCloseTo(117 * Math.sqrt(3), 10); // 202.65
    expect(onGray.imgL1).toBeCloseTo((3696 * 3 * 117) / 12288, 10);
  });

  it('no object: fg colour distance 441.7, mask IoU 0, balance 0', () => {
    const blank = canvas(white);
    const s = heldOutScores(blank, { ...concept, colors: [red, green] });
    expect(s.fgColorDist).toBe(NO_OBJECT_COLOR_DIST);
    expect(s.maskIou).toBe(0);
    expect(s.twoColorBalance).toBe(0);
    expect(maskIou(new Uint8Array(4), new Uint8Array(4))).toBe(0);
  });

  it('two colours: distance to the nearer colour per pixel, and the balance of the two', () => {
    const twoColour = { canonical: canvas(white, [[22, 32, 22, 42, red], [32, 42, 22, 42, green]]), background: white, colors: [red, green] };
    expect(heldOutScores(twoColour.canonical, twoColour)).toEqual({ maskIou: 1, bgDist: 0, fgColorDist: 0, twoColorBalance: 1, imgL1: 0 });
    // 3/4 red, 1/4 green: f = (0.75, 0.25), balance min(1, 2 * 0.25).
    const quarter = canvas(white, [[22, 37, 22, 42, red], [37, 42, 22, 42, green]]);
    expect(twoColorBalance(quarter, analyzeHeldOut(quarter), [red, green])).toBe(0.5);
    expect(fgColorDist(quarter, analyzeHeldOut(quarter), [red, green])).toBe(0);
    // All blue: every pixel is 183.58 from green (nearer than red's 257.68), none within 80 of either.
    const allBlue = heldOutScores(canvas(white, [[22, 42, 22, 42, blue]]), twoColour);
    expect(allBlue.fgColorDist).toBeCloseTo(Math.sqrt(90 ** 2 + 160 ** 2), 10);
    expect(allBlue.twoColorBalance).toBe(0);
    // Half of the pixels at (220, 40, 120), exactly 80 from red, count as red ("within 80").
    const edge = canvas(white, [[22, 32, 22, 42, [220, 40, 120]], [32, 42, 22, 42, green]]);
    expect(twoColorBalance(edge, analyzeHeldOut(edge), [red, green])).toBe(1);
    expect(fgColorDist(edge, analyzeHeldOut(edge), [red, green])).toBeCloseTo(40, 10);
  });

  it('imgL1 and bgDist on their own', () => {
    expect(imgL1(canvas(white), canvas([244, 245, 240]))).toBeCloseTo(6 / 3, 12);
    expect(bgDist(analyze(canvas([245, 245, 241])), white)).toBe(4);
    expect(() => imgL1(C, { width: 32, height: 32, data: new Uint8ClampedArray(32 * 32 * 4) })).toThrow(/64x64 vs 32x32/);
  });
});

describe('benchmark helpers', () => {
  it('nearestL1 finds the nearest photo', () => {
    const photos = [C, canvas(white, [[24, 44, 22, 42, red]]), canvas(white, [[22, 42, 22, 42, blue]])];
    expect(nearestL1(canvas(white, [[24, 44, 22, 42, red]]), photos)).toEqual({ l1: 0, index: 1 });
    expect(nearestL1(canvas(white, [[23, 43, 22, 42, red]]), photos).index).toBe(0); // tie with photo 1: the first
    expect(nearestL1(C, [])).toEqual({ l1: Infinity, index: -1 });
  });

  it('attributeHits says, per wanted attribute, whether the analysis found it', () => {
    const a = analyze(canvas(gray, [[22, 42, 22, 42, red]]));
    expect(attributeHits(a, { background: 'gray', color: 'red', position: 'center', size: 'small' })).toEqual({ background: true, color: true, position: true, size: true });
    expect(attributeHits(a, { background: 'white', size: 'large' })).toEqual({ background: false, size: false });
    expect(attributeHits(analyze(canvas(gray)), { background: 'gray', position: 'center' })).toEqual({ background: true, position: false });
  });
});
