/**
 * The analyzer on the reference's 32 sample PNGs and on 400 scenes of our own sampler and
 * renderer, plus its single steps: the border median (corners counted twice), numpy's median and
 * percentiles, the position rule, the no-object case, and its speed.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../common/random';
import { analyze, borderColor, median, percentile, positionOf, type Analysis } from './analyzer';
import { sampleExample, type ExampleObject } from './captions';
import { readPng, readRecords } from './fixtures.testing';
import { COLORS, HELD_OUT_COLORS, HELD_OUT_PALETTE } from './palette';
import { renderScene, type WorldImage } from './render';

type Tally = Record<'background' | 'color' | 'position' | 'size' | 'shape', number>;

function score(tally: Tally, a: Analysis, background: string, o: ExampleObject) {
  tally.background += +(a.background.name === background);
  tally.color += +(a.object?.color === o.color);
  tally.position += +(a.object?.position === o.position);
  tally.size += +(a.object?.size === o.size);
  tally.shape += +(a.object?.shape === o.shape);
}

const zero = (): Tally => ({ background: 0, color: 0, position: 0, size: 0, shape: 0 });

function solid(rgb: readonly [number, number, number]): WorldImage {
  const data = new Uint8ClampedArray(64 * 64 * 4);
  for (let i = 0; i < 64 * 64; i++) data.set([...rgb, 255], i * 4);
  return { width: 64, height: 64, data };
}
const paint = (image: WorldImage, x: number, y: number, rgb: readonly number[]) => image.data.set(rgb, (y * 64 + x) * 4);

describe('analyze', () => {
  it('on the 32 reference samples: background, colour and position always right, size and shape >= 90%', () => {
    // Measured: 24 single-object samples, 24/24 background, colour and position, 23/24 size and
    // shape (sample 004, a large triangle of r = 16.0 whose extent is 26.8 < 27, reads small and
    // then as a circle); the 8 two-object samples' backgrounds all right.
    const tally = zero();
    const records = readRecords().filter((r) => r.png);
    const ones = records.filter((r) => r.kind === 'one');
    for (const record of records) {
      const a = analyze(readPng(record.png!));
      expect(a.background.name).toBe(record.bg);
      expect(a.background.rgb).toEqual(record.bg_rgb);
      if (record.kind === 'one') score(tally, a, record.bg, record.objects[0]);
    }
    expect(ones).toHaveLength(24);
    expect(tally.background).toBe(24);
    expect(tally.color).toBe(24);
    expect(tally.position).toBe(24);
    expect(tally.size / 24).toBeGreaterThanOrEqual(0.9);
    expect(tally.shape / 24).toBeGreaterThanOrEqual(0.9);
  });

  it('on 400 single-object scenes of our sampler and renderer: the same accuracies as world.md reports', () => {
    // Measured (seed 7): background, colour, position 400/400; size and shape 381/400 = 95.3% each
    // (world.md: ~96%; 961/1000 with seed 1). The shape misses are the size misses: objects near
    // the 27-pixel extent line, whose wrong size gives the templates the wrong radius.
    const rng = new SeededRng(7);
    const tally = zero();
    let n = 0;
    while (n < 400) {
      const e = sampleExample(rng);
      if (e.kind !== 'one') continue;
      n++;
      score(tally, analyze(renderScene(e.scene)), e.background, e.objects[0]);
    }
    expect(tally.background).toBe(400);
    expect(tally.color).toBe(400);
    expect(tally.position).toBe(400);
    expect(tally.size / 400).toBeGreaterThanOrEqual(0.93);
    expect(tally.shape / 400).toBeGreaterThanOrEqual(0.93);
  });

  it('finds a sharp 20x20 square exactly: centroid, extent, mask, colour', () => {
    const image = renderScene({ background: COLORS.white, objects: [{ shape: 'square', cx: 44, cy: 32, r: 10 / 0.85, color: COLORS.green }] });
    const a = analyze(image);
    expect(a.maskPixels).toBe(400);
    expect(a.object).toMatchObject({ rgb: COLORS.green, color: 'green', cx: 44, cy: 32, position: 'right', size: 'small', shape: 'square' });
    // x in 34..53, 20 times each (400 values): P2 at index 7.98 is 34, P98 at 391.02 is 53 (numpy agrees): 19 + 1.
    expect(a.object!.extent).toBe(20);
    expect(a.object!.iou).toBe(1);
  });

  it('names teal and brown only with the held-out palette', () => {
    const image = renderScene({ background: COLORS.white, objects: [{ shape: 'heart', cx: 32, cy: 32, r: 17, color: HELD_OUT_COLORS.teal }] });
    expect(analyze(image).object?.color).toBe('green');
    expect(analyze(image, HELD_OUT_PALETTE).object?.color).toBe('teal');
    const arrow = renderScene({ background: COLORS.yellow, objects: [{ shape: 'arrow', cx: 32, cy: 32, r: 17, color: HELD_OUT_COLORS.brown }] });
    expect(analyze(arrow, HELD_OUT_PALETTE, ['arrow', 'crescent', 'triangle']).object).toMatchObject({ color: 'brown', shape: 'arrow', size: 'large', position: 'center' });
  });

  it('no object: a plain image, or fewer than 12 foreground pixels', () => {
    const plain = analyze(solid(COLORS.blue));
    expect(plain).toMatchObject({ background: { rgb: COLORS.blue, name: 'blue' }, maskPixels: 0, object: null });
    const speck = solid(COLORS.blue);
    for (let i = 0; i < 11; i++) paint(speck, 20 + i, 30, COLORS.yellow);
    expect(analyze(speck)).toMatchObject({ maskPixels: 11, object: null });
    paint(speck, 20, 31, COLORS.yellow);
    expect(analyze(speck).object?.color).toBe('yellow');
    // Within distance 50 of the background is background.
    const faint = solid(COLORS.gray);
    for (let x = 20; x < 40; x++) for (let y = 20; y < 40; y++) paint(faint, x, y, [156, 156, 156]); // 48.5 away
    expect(analyze(faint).object).toBeNull();
  });

  it('the border median counts the corner pixels twice, as the concatenation of rows and columns does', () => {
    // Border: 480 non-corner pixels, 248 of value 0 and 232 of value 100; 16 corner pixels of 200.
    // Counted once each (496) the median would be 50; concatenated (512 values, corners twice) it is 100.
    const image = solid([100, 100, 100]);
    for (const [x, y] of [[0, 0], [0, 62]]) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (const cx of [x, 62]) paint(image, cx + i, y + j, [200, 200, 200]);
    for (const y of [0, 1, 62, 63]) for (let x = 2; x < 62; x++) paint(image, x, y, [0, 0, 0]);
    for (let y = 2; y < 6; y++) for (const x of [0, 1]) paint(image, x, y, [0, 0, 0]);
    expect(borderColor(image)).toEqual([100, 100, 100]);
  });

  it("numpy's median, linear percentiles and the position rule", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    const sorted = Float64Array.from({ length: 10 }, (_, i) => i);
    expect(percentile(sorted, 2)).toBeCloseTo(0.18, 12);
    expect(percentile(sorted, 98)).toBeCloseTo(8.82, 12);
    expect(percentile(sorted, 100)).toBe(9);
    expect([positionOf(37.9, 26.1), positionOf(38, 32), positionOf(32, 25), positionOf(38, 38), positionOf(25, 37), positionOf(31, 45)]).toEqual(['center', 'right', 'top', 'right', 'left', 'bottom']);
  });
});
