import { describe, expect, it } from 'vitest';
import { transferables } from './transferables';

const image = (n: number) => ({ width: 1, height: 1, data: new Uint8ClampedArray(4 * n) });

describe('what a result transfers to the page', () => {
  it("a generation's images, an evaluation's { image } entries and a file's bytes, each buffer once", () => {
    const a = image(1);
    const b = image(2);
    expect(transferables({ images: [a, b] })).toEqual([a.data.buffer, b.data.buffer]);
    expect(transferables({ scores: {}, images: [{ prompt: 'p', seed: 1, baseline: true, image: a }, { prompt: 'q', seed: 1, baseline: false, image: b }] })).toEqual([a.data.buffer, b.data.buffer]);
    const bytes = new Uint8Array(8);
    expect(transferables({ fileName: 'x', bytes })).toEqual([bytes.buffer]);
    const shared = new Uint8ClampedArray(8);
    expect(transferables({ images: [{ ...a, data: shared.subarray(0, 4) }, { ...a, data: shared.subarray(4) }] })).toEqual([shared.buffer]);
  });

  it('nothing from results without pixels or bytes', () => {
    for (const r of [null, 3, 'x', {}, { images: 'no' }, { images: [null, { prompt: 'p' }] }, { bytes: [1, 2] }]) expect(transferables(r)).toEqual([]);
  });
});
