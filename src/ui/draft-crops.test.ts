import { describe, expect, it } from 'vitest';
import { CENTRE_CROP } from '../library/photo-crop';
import { cropOf, cropsInOrder, withCrop } from './draft-crops';

const a = new Blob(['a']);
const b = new Blob(['b']);
const c = new Blob(['c']);
const left = { x: 0, y: 0.5, size: 1 };
const zoomed = { x: 0.5, y: 0.5, size: 0.5 };

describe("the draft's photo crops", () => {
  it('are the centre until chosen, and follow the photo, not its place in the list', () => {
    const crops = withCrop(withCrop(undefined, [a, b, c], b, left), [a, b, c], c, zoomed);
    expect(cropOf(crops, a)).toEqual(CENTRE_CROP);
    expect(cropsInOrder(crops, [a, b, c])).toEqual([CENTRE_CROP, left, zoomed]);
    // b removed: c keeps its own crop, a does not inherit b's
    expect(cropsInOrder(crops, [a, c])).toEqual([CENTRE_CROP, zoomed]);
    // photos cleared and new ones added: none inherits an old crop
    expect(cropsInOrder(crops, [new Blob(['d'])])).toEqual([CENTRE_CROP]);
  });

  it('replace a photo\'s earlier crop and drop those of photos gone', () => {
    const once = withCrop(undefined, [a, b], a, left);
    const twice = withCrop(once, [a, b], a, zoomed);
    expect(twice).toEqual([{ photo: a, crop: zoomed }]);
    expect(withCrop(twice, [b], b, left)).toEqual([{ photo: b, crop: left }]);
  });
});
