import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { packedRowChunks, packedRowTable } from './row-table';
import { f16Bits, f16Value } from '../kernels/packed';
import { expectNoLeaks } from '../test/compare';
import { randomNormal } from '../common/random';

const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

describe('packed f16 row tables', () => {
  it('keep a table past the chunk limit in packed row chunks and gather across them exactly', async () => {
    const [rows, width] = [300, 15];
    const values = randomNormal(rows * width, 11);
    values[64 * width] = -0; // first element of the second chunk: its sign survives the merge
    const chunks = packedRowChunks(values, [rows, width], 64 * width * 2); // 64 rows per chunk
    expect(chunks.map((c) => c.shape)).toEqual([[64, 15], [64, 15], [64, 15], [64, 15], [44, 15]]);
    const ids = [0, 63, 64, 65, 127, 128, 255, 256, 299, 0, 170];
    const got = await expectNoLeaks(async () => {
      const idsT = tf.tensor1d(ids, 'int32');
      const out = packedRowTable(chunks).gather(idsT);
      expect(out.shape).toEqual([ids.length, width]);
      const data = (await out.data()) as Float32Array;
      tf.dispose([idsT, out]);
      return data;
    });
    chunks.forEach((c) => c.dispose());
    const expected = new Float32Array(ids.length * width);
    ids.forEach((id, k) => {
      for (let c = 0; c < width; c++) expected[k * width + c] = f16Value(f16Bits(values[id * width + c]));
    });
    expect(bitsOf(got)).toEqual(bitsOf(expected));
  });
});
