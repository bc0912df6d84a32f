/**
 * Embedding tables on the GPU, whole or in row chunks, and row gathers from them: fp32 tensors,
 * or packed f16 rows (half the bytes) for frozen tables of f16 weights, read by
 * `gatherPackedRows` with no fp32 copy of the table.
 */
import * as tf from '../gpu/tf';
import { gatherPackedRows } from '../kernels/packed-gather';
import { packF16, type PackedWeight } from '../kernels/packed';

/**
 * Largest fp32 table kept in one buffer. WebGPU only guarantees 128 MiB per storage binding, and
 * CLIP's token-embedding table (49408 × 768 × 4 B = 152 MB) is past it: such tables are kept in
 * row chunks and read through `rowTable`.
 */
export const MAX_TABLE_BYTES = 64 * 1024 * 1024;

/** Largest packed f16 table kept in one buffer: WebGPU's guaranteed storage binding (128 MiB). */
export const MAX_PACKED_TABLE_BYTES = 128 * 1024 * 1024;

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

/** Whether each id falls in the chunk of rows [start, start + n). */
function inChunk(ids: tf.Tensor, start: number, n: number): tf.Tensor {
  return tf.logicalAnd(tf.greaterEqual(ids, tf.scalar(start, 'int32')), tf.less(ids, tf.scalar(start + n, 'int32')));
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
          const inside = inChunk(ids, start, n);
          const part = tf.mul(tf.gather(chunk, local), tf.expandDims(tf.cast(inside, 'float32'), -1));
          out = out ? tf.add(out, part) : part;
          start += n;
        }
        return out!;
      }),
  };
}

/** `values` [rows, width] (f32, rounded, or raw f16 bits) as packed f16 row chunks of at most `maxBytes`. */
export function packedRowChunks(values: Float32Array | Uint16Array, [rows, width]: number[], maxBytes = MAX_PACKED_TABLE_BYTES): PackedWeight[] {
  const per = Math.max(1, Math.floor(maxBytes / (width * 2)));
  const chunks: PackedWeight[] = [];
  for (let start = 0; start < rows; start += per) {
    const n = Math.min(per, rows - start);
    const chunk = packF16(values.subarray(start * width, (start + n) * width), [n, width]);
    tf.keep(chunk.data);
    chunks.push(chunk);
  }
  return chunks;
}

/** Rows by id from packed f16 `chunks` as fp32 (one gather per chunk; a later chunk's rows replace zeros). */
export function packedRowTable(chunks: PackedWeight[]): RowTable {
  const rows = chunks.reduce((n, c) => n + c.shape[0], 0);
  return {
    rows,
    width: chunks[0].shape[1],
    gather: (ids) =>
      tf.tidy(() => {
        let out = gatherPackedRows(chunks[0], ids);
        let start = chunks[0].shape[0];
        for (const chunk of chunks.slice(1)) {
          const n = chunk.shape[0];
          const inside = inChunk(ids, start, n);
          out = tf.where(tf.expandDims(inside, -1), gatherPackedRows(chunk, ids, start), out);
          start += n;
        }
        return out;
      }),
  };
}
