/**
 * The renderer against the Python reference: the 32 sample PNGs re-rendered from their recorded
 * parameters, plus the palette rule, the held-out shapes' orientation, the fill patterns, and the
 * row-at-a-time test agreeing with the plain inside-test.
 */
import { describe, expect, it } from 'vitest';
import { readPng, readRecords, recordScene } from './fixtures.testing';
import { COLORS, COLOR_NAMES, colorDistance, nearestColor, objectColorsFor, HELD_OUT_PALETTE } from './palette';
import { renderScene, renderTemplate, templateOverlap } from './render';
import { HELD_OUT_SHAPE_NAMES, insideShape, patternPicksFirst, RowTester, SHAPE_NAMES } from './shapes';

const records = readRecords();

describe('renderScene', () => {
  // Measured: all 32 samples (131,072 pixels, 24 single-object and 8 two-object scenes) are equal to
  // the byte, the 3-decimal rounding of the parameters flipping no sub-pixel. Rounding half up
  // instead of numpy's half to even makes 496 of those pixels differ by 1 (2-2 sub-pixel ties).
  it('re-renders every sample PNG exactly from its recorded parameters', () => {
    const withPng = records.filter((r) => r.png);
    expect(withPng).toHaveLength(32);
    for (const record of withPng) {
      const want = readPng(record.png!);
      const got = renderScene(recordScene(record));
      expect([got.width, got.height]).toEqual([64, 64]);
      let differing = 0;
      for (let i = 0; i < got.data.length; i++) if (got.data[i] !== want.data[i]) differing++;
      expect(differing, `${record.png}: ${record.caption}`).toBe(0);
    }
  });

  it('fills the background, alpha 255, and paints later objects on top', () => {
    const image = renderScene({
      background: COLORS.gray,
      objects: [
        { shape: 'square', cx: 32, cy: 32, r: 10, color: COLORS.red },
        { shape: 'circle', cx: 32, cy: 32, r: 4, color: COLORS.blue },
      ],
    });
    const at = (x: number, y: number) => Array.from(image.data.slice((y * 64 + x) * 4, (y * 64 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([128, 128, 128, 255]);
    expect(at(36, 36)).toEqual([220, 40, 40, 255]);
    expect(at(32, 32)).toEqual([40, 80, 220, 255]);
    expect(image.data.filter((_, i) => i % 4 === 3 && image.data[i] !== 255)).toHaveLength(0);
  });

  it('averages a 2x2 block of sub-pixels and rounds half to even', () => {
    // The square |u| <= 0.85 with r = 1/0.85 spans x in [cx-1, cx+1]: cx = 32.5 covers sub-pixels
    // of pixels 31..33 partly: pixel 31 gets its right column (2 of 4 sub-pixels).
    const image = renderScene({ background: [0, 0, 0], objects: [{ shape: 'square', cx: 32.5, cy: 32.5, r: 1 / 0.85, color: [3, 5, 255] }] });
    const p = (32 * 64 + 31) * 4;
    // Pixel (31, 32): 2 of 4 sub-pixels inside: 1.5 -> 2, 2.5 -> 2, 127.5 -> 128.
    expect(Array.from(image.data.slice(p, p + 3))).toEqual([2, 2, 128]);
  });
});

describe('palette', () => {
  it('object colours keep distance >= 100 from the background, as in every recorded example', () => {
    expect(objectColorsFor(COLORS.yellow)).not.toContain('orange'); // 82.6
    expect(objectColorsFor(COLORS.red)).toContain('orange'); // 101.6
    expect(objectColorsFor(COLORS.white)).toContain('pink'); // 114.3
    expect(objectColorsFor(COLORS.gray)).not.toContain('purple'); // 92.9
    for (const record of records) {
      for (const o of record.objects) {
        expect(objectColorsFor(COLORS[record.bg])).toContain(o.color);
        expect(COLORS[o.color]).toEqual(o.rgb);
      }
      expect(COLORS[record.bg]).toEqual(record.bg_rgb);
    }
  });

  it('names the nearest colour, teal and brown only from the held-out palette', () => {
    expect(nearestColor([230, 50, 30]).name).toBe('red');
    expect(nearestColor([0, 140, 140]).name).toBe('green');
    expect(nearestColor([0, 140, 140], HELD_OUT_PALETTE).name).toBe('teal');
    expect(nearestColor([120, 70, 30], HELD_OUT_PALETTE).name).toBe('brown');
    expect(colorDistance([0, 0, 0], [3, 4, 12])).toBe(13);
    for (const name of COLOR_NAMES) expect(nearestColor(COLORS[name]).name).toBe(name);
  });
});

describe('shapes', () => {
  it('the held-out shapes: the crescent opens to the right, the arrow points right', () => {
    expect(insideShape('crescent', -0.9, 0)).toBe(true);
    expect(insideShape('crescent', 0.9, 0)).toBe(false);
    expect(insideShape('crescent', 0, 0)).toBe(false);
    expect(insideShape('arrow', 0.9, 0)).toBe(true);
    expect(insideShape('arrow', -0.9, 0)).toBe(true);
    expect(insideShape('arrow', -0.9, 0.5)).toBe(false);
    expect(insideShape('arrow', 0.3, 0.5)).toBe(true);
    expect(insideShape('triangle', 0, -0.9)).toBe(true);
    expect(insideShape('triangle', 0, 0.9)).toBe(false);
    expect(insideShape('ring', 0, 0)).toBe(false);
    expect(insideShape('heart', 0, -0.5)).toBe(false); // the notch between the lobes
    expect(insideShape('heart', 0, 0.5)).toBe(true);
  });

  it('striped: 6 bands down the height, top colour1; checkered: 4x4 over the square, top-left colour1', () => {
    expect([-0.9, -0.5, -0.1, 0.1, 0.5, 0.9].map((v) => patternPicksFirst('striped', 0, v))).toEqual([true, false, true, false, true, false]);
    expect(patternPicksFirst('checkered', -0.8, -0.8)).toBe(true);
    expect(patternPicksFirst('checkered', -0.3, -0.8)).toBe(false);
    expect(patternPicksFirst('checkered', -0.3, -0.3)).toBe(true);
    expect(patternPicksFirst('checkered', 0.8, 0.8)).toBe(true);
  });

  it('the row-at-a-time test is the plain inside-test, and every shape lies within |u|, |v| <= 1', () => {
    const tester = new RowTester();
    for (const shape of [...SHAPE_NAMES, ...HELD_OUT_SHAPE_NAMES]) {
      for (let j = 0; j <= 300; j++) {
        const v = -1.5 + j / 100 + 1e-4;
        tester.setRow(shape, v);
        for (let i = 0; i <= 300; i++) {
          const u = -1.5 + i / 100 + 3e-5;
          const inside = insideShape(shape, u, v);
          if (tester.inside(u) !== inside) throw new Error(`${shape} at (${u}, ${v})`);
          if (inside && (Math.abs(u) > 1 || Math.abs(v) > 1)) throw new Error(`${shape} outside its box at (${u}, ${v})`);
        }
      }
    }
  });

  it('a template is the shape tested at pixel centres, and templateOverlap counts it against a mask', () => {
    const mask = renderTemplate('star', 30.3, 33.7, 12.4);
    let count = 0;
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
      const inside = insideShape('star', (x + 0.5 - 30.3) / 12.4, (y + 0.5 - 33.7) / 12.4);
      expect(mask[y * 64 + x]).toBe(inside ? 1 : 0);
      count += +inside;
    }
    expect(templateOverlap('star', 30.3, 33.7, 12.4, mask, 64, 64)).toEqual({ inside: count, overlap: count });
    expect(templateOverlap('circle', 62, 62, 10, mask, 64, 64).overlap).toBe(0);
  });
});
