import { describe, expect, it } from 'vitest';
import { CENTRE_CROP, clampCrop, cropRect, isPhotoCrop, panCrop } from './photo-crop';

describe('a photo crop', () => {
  it('is the centred square of the short side by default, as training used before crops', () => {
    for (const [w, h] of [[640, 480], [480, 640], [101, 64], [64, 101], [77, 77], [4032, 3024]]) {
      const side = Math.min(w, h);
      const centred = { sx: Math.floor((w - side) / 2), sy: Math.floor((h - side) / 2), side };
      expect(cropRect(w, h)).toEqual(centred);
      expect(cropRect(w, h, CENTRE_CROP)).toEqual(centred);
    }
  });

  it('crops whole pixels', () => {
    expect(cropRect(6, 4)).toEqual({ sx: 1, sy: 0, side: 4 });
    expect(cropRect(3, 8)).toEqual({ sx: 0, sy: 2, side: 3 });
    expect(cropRect(5, 4)).toEqual({ sx: 0, sy: 0, side: 4 });
  });

  it('slides along the long side from edge to edge', () => {
    expect(cropRect(300, 100, { x: 0, y: 0.5, size: 1 })).toEqual({ sx: 0, sy: 0, side: 100 });
    expect(cropRect(300, 100, { x: 1, y: 0.5, size: 1 })).toEqual({ sx: 200, sy: 0, side: 100 });
    expect(cropRect(100, 300, { x: 0.5, y: 0.25, size: 1 })).toEqual({ sx: 0, sy: 50, side: 100 });
  });

  it('shrinks with its size and then moves on both axes, never past the edges', () => {
    expect(cropRect(300, 100, { x: 0, y: 1, size: 0.5 })).toEqual({ sx: 0, sy: 50, side: 50 });
    expect(cropRect(300, 100, { x: 1, y: 0, size: 0.25 })).toEqual({ sx: 275, sy: 0, side: 25 });
    expect(cropRect(300, 100, { x: 7, y: -3, size: 0.01 })).toEqual({ sx: 275, sy: 0, side: 25 });
    expect(clampCrop({ x: 2, y: -1, size: 3 })).toEqual({ x: 1, y: 0, size: 1 });
    expect(clampCrop({ x: 0.5 - 0.1 * 5, y: 0.1 + 0.2, size: 1 / 1.25 / 1.25 })).toEqual({ x: 0, y: 0.3, size: 0.64 });
  });

  it('follows a dragged picture: dragging it right shows more of its left', () => {
    // 300 × 100, full height: 200 px of room, so 50 px is a quarter of it.
    expect(panCrop(CENTRE_CROP, 300, 100, 50, 0)).toEqual({ x: 0.25, y: 0.5, size: 1 });
    expect(panCrop(CENTRE_CROP, 300, 100, -500, 0)).toEqual({ x: 1, y: 0.5, size: 1 });
    // No vertical room at full height: y stays.
    expect(panCrop(CENTRE_CROP, 300, 100, 0, 40)).toEqual(CENTRE_CROP);
    expect(panCrop({ x: 0.5, y: 0.5, size: 0.5 }, 300, 100, 0, 25)).toEqual({ x: 0.5, y: 0, size: 0.5 });
  });

  it('is told from other stored values', () => {
    expect(isPhotoCrop(CENTRE_CROP)).toBe(true);
    expect(isPhotoCrop({ x: 0, y: 1, size: 0.25 })).toBe(true);
    expect(isPhotoCrop({ x: 0, y: 1, size: 0.1 })).toBe(false);
    expect(isPhotoCrop({ x: 1.5, y: 0, size: 1 })).toBe(false);
    expect(isPhotoCrop({ x: '0', y: 0, size: 1 })).toBe(false);
    expect(isPhotoCrop(null)).toBe(false);
  });
});
