import { describe, expect, it } from 'vitest';
import { trainingInput } from './training-input';

describe('training input', () => {
  it('lays RGBA photos out as NCHW planes in [-1, 1], alpha dropped', () => {
    const photo = (r: number, g: number, b: number) => ({ width: 2, height: 2, data: Uint8ClampedArray.from({ length: 16 }, (_, i) => [r, g, b, 7][i % 4]) });
    const out = trainingInput([photo(0, 255, 51), photo(255, 0, 102)]);
    expect(out).toHaveLength(2 * 3 * 4);
    expect([...out.slice(0, 4)]).toEqual([-1, -1, -1, -1]); // photo 0, red plane
    expect([...out.slice(4, 8)]).toEqual([1, 1, 1, 1]); // photo 0, green plane
    expect(out[8]).toBeCloseTo(-0.6, 6); // photo 0, blue: 51/255·2 − 1
    expect([...out.slice(12, 16)]).toEqual([1, 1, 1, 1]); // photo 1, red plane
  });

  it('refuses photos of another size, naming which', () => {
    const a = { width: 2, height: 2, data: new Uint8ClampedArray(16) };
    const b = { width: 3, height: 3, data: new Uint8ClampedArray(36) };
    expect(() => trainingInput([a, b])).toThrow(/training image 1 is 3×3; all must be 2×2/);
  });
});
