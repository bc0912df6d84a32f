import * as tf from '../gpu/tf';
import { describe, expect, it } from 'vitest';
import { gatherPackedRows } from './packed-gather';
import { packF16, unpackF16 } from './packed';
import { expectNoLeaks } from '../test/compare';
import { randomNormal } from '../common/random';

const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

/** tf.gather of the unpacked table: the reference the packed gather must equal bit for bit. */
async function reference(values: Float32Array, shape: [number, number], ids: number[]): Promise<Float32Array> {
  const w = packF16(values, shape);
  const out = tf.tidy(() => tf.gather(unpackF16(w), tf.tensor1d(ids, 'int32')));
  const data = (await out.data()) as Float32Array;
  tf.dispose([out]);
  w.dispose();
  return data;
}

describe('gatherPackedRows', () => {
  // Odd width: rows start mid-word, so both halves of a word are read at row boundaries.
  for (const [rows, width] of [[300, 16], [301, 15]] as [number, number][]) {
    it(`equals tf.gather of the unpacked table exactly (${rows}×${width}, first/last/middle rows, repeats)`, async () => {
      const values = randomNormal(rows * width, 3);
      values[0] = -0; // the sign of zero survives
      values[values.length - 1] = 65504;
      const ids = [0, rows - 1, 1, Math.floor(rows / 2), rows - 2, 0, 137, rows - 1];
      const expected = await reference(values, [rows, width], ids);
      const w = packF16(values, [rows, width]);
      const got = await expectNoLeaks(async () => {
        const idsT = tf.tensor2d(ids, [2, 4], 'int32');
        const out = gatherPackedRows(w, idsT);
        expect(out.shape).toEqual([2, 4, width]);
        const data = (await out.data()) as Float32Array;
        tf.dispose([idsT, out]);
        return data;
      });
      w.dispose();
      expect(bitsOf(got)).toEqual(bitsOf(expected));
    });
  }

  it('reads a row chunk: ids are offset by firstRow, ids outside the chunk give zeros', async () => {
    const [rows, width] = [40, 6];
    const values = randomNormal(rows * width, 4);
    const w = packF16(values, [rows, width]);
    const first = 100;
    const ids = [99, 100, 139, 140, 120, -1];
    const all = await reference(values, [rows, width], [0, 0, 39, 0, 20, 0]);
    const idsT = tf.tensor1d(ids, 'int32');
    const out = gatherPackedRows(w, idsT, first);
    const got = (await out.data()) as Float32Array;
    tf.dispose([idsT, out]);
    w.dispose();
    ids.forEach((id, k) => {
      const row = Array.from(got.subarray(k * width, (k + 1) * width));
      if (id < first || id >= first + rows) expect(row, `id ${id}`).toEqual(new Array(width).fill(0));
      else expect(row, `id ${id}`).toEqual(Array.from(all.subarray(k * width, (k + 1) * width)));
    });
  });

  it('refuses float ids and tables that are not [rows, width]', () => {
    const w = packF16(new Float32Array(12), [3, 4]);
    const v = packF16(new Float32Array(12), [12]);
    const f = tf.tensor1d([0], 'float32');
    const i = tf.tensor1d([0], 'int32');
    expect(() => gatherPackedRows(w, f)).toThrow(/int32/);
    expect(() => gatherPackedRows(v, i)).toThrow(/\[rows, width\]/);
    tf.dispose([f, i]);
    w.dispose();
    v.dispose();
  });
});
