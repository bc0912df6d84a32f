import * as tf from '../gpu/tf';
import type { Benchmark } from './benchmark';
import { packF16 } from './packed';
import { gatherPackedRows } from './packed-gather';
import { randomNormal } from '../common/random';

/** `n` rows of a [rows, width] table: packed f16 vs tf.gather of the fp32 table. */
function gather(name: string, n: number, rows: number, width: number): Benchmark {
  return {
    name,
    setup: () => {
      const values = randomNormal(rows * width, 1, 0.02);
      const packed = packF16(values, [rows, width]);
      const w32 = tf.tensor2d(values, [rows, width]);
      const ids = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7919) % rows), 'int32');
      return {
        ours: () => gatherPackedRows(packed, ids),
        baseline: () => tf.gather(w32, ids),
        dispose: () => {
          tf.dispose([w32, ids]);
          packed.dispose();
        },
      };
    },
  };
}

// A CFG prompt pair (2 × 77 tokens) from a third of CLIP's token table (the fp32 baseline must fit one binding).
export const benchmarks: Benchmark[] = [gather('packed/gather-154-of-16384x768', 154, 16384, 768)];
