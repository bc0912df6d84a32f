/** Embedding tables on the GPU, whole or in row chunks, and row gathers from them. */
import * as tf from '../gpu/tf';

/**
 * Largest fp32 table kept in one buffer. WebGPU only guarantees 128 MiB per storage binding, and
 * CLIP's token-embedding table (49408 × 768 × 4 B = 152 MB) is past it: such tables are kept in
 * row chunks and read through `rowTable`.
 */
export const MAX_TABLE_BYTES = 64 * 1024 * 1024;

/** A [rows, width] table that may be stored in row chunks; `gather` reads rows by id. */
export interface RowTable {
  rows: number;
  width: number;
  gather(ids: tf.Tensor): tf.Tensor;
}

export function rowChunks(data: Float32Array, [rows, width]: number[]): tf.Tensor2D[] {
  const per = Math.max(1, Math.floor(MAX_TABLE_BYTES / (width * 4)));
  const chunks: tf.Tensor2D[] = [];
  for (let start = 0; start < rows; start += per) {
    const n = Math.min(per, rows - start);
    chunks.push(tf.keep(tf.tensor2d(data.subarray(start * width, (start + n) * width), [n, width])));
  }
  return chunks;
}

/** Rows by id from a table held in `chunks` (one gather per chunk, masked, summed). */
export function chunkedRowTable(chunks: tf.Tensor2D[]): RowTable {
  const rows = chunks.reduce((n, c) => n + c.shape[0], 0);
  return {
    rows,
    width: chunks[0].shape[1],
    gather: (ids) =>
      tf.tidy(() => {
        if (chunks.length === 1) return tf.gather(chunks[0], ids);
        let out: tf.Tensor | null = null;
        let start = 0;
        for (const chunk of chunks) {
          const n = chunk.shape[0];
          const local = tf.clipByValue(tf.sub(ids, tf.scalar(start, 'int32')), 0, n - 1);
          const inside = tf.logicalAnd(tf.greaterEqual(ids, tf.scalar(start, 'int32')), tf.less(ids, tf.scalar(start + n, 'int32')));
          const part = tf.mul(tf.gather(chunk, local), tf.expandDims(tf.cast(inside, 'float32'), -1));
          out = out ? tf.add(out, part) : part;
          start += n;
        }
        return out!;
      }),
  };
}
