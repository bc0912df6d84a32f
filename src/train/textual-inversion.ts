/**
 * Textual inversion (Gal et al. 2022, "An Image is Worth One Word"): a concept is N new token
 * ids (≥ vocab_size, as the tokenizer's added tokens get them) whose embeddings are trainable
 * vectors [N, D]; the frozen token-embedding table stays as it is (never copied, never written).
 * Token lookup (`embedWithRows`): gather(table, min(ids, V − 1)), then the positions whose id is
 * one of the overriding ids take that id's row of `rows` (one-hot [B, N, K] · rows [K, D], so
 * repeated ids accumulate gradient as in an embedding table). Gradients flow only into `rows`.
 */
import * as tf from '../gpu/tf';
import type { RowTable } from '../model/row-table';
import type { Weights } from '../model/weights';

const TABLE = 'embeddings.token_embedding.weight';

/**
 * A token lookup for `clipTextEncoder`'s `embedTokens`: ids listed in `rowIds` read row k of
 * `rows` [K, D]; every other id reads the frozen `table` [V, D] (ids ≥ V must be in `rowIds`).
 */
export function embedWithRows(table: RowTable, rowIds: readonly number[], rows: tf.Tensor2D): (ids: tf.Tensor2D) => tf.Tensor3D {
  const { rows: V, width: D } = table;
  if (rows.shape[0] !== rowIds.length || rows.shape[1] !== D) {
    throw new Error(`embedWithRows: rows [${rows.shape}] must be [${rowIds.length}, ${D}].`);
  }
  return (ids) =>
    tf.tidy(() => {
      const [B, N] = ids.shape;
      const base: tf.Tensor = table.gather(tf.minimum(ids, tf.scalar(V - 1, 'int32')));
      if (rowIds.length === 0) return base as tf.Tensor3D;
      const hit = tf.cast(tf.equal(ids.reshape([B, N, 1]), tf.tensor1d([...rowIds], 'int32')), 'float32'); // [B, N, K]
      const picked = tf.matMul(hit.reshape([B * N, rowIds.length]), rows).reshape([B, N, D]);
      return tf.where(tf.greater(tf.sum(hit, -1, true), 0), picked, base) as tf.Tensor3D;
    });
}

export interface TextualInversionInit {
  /** Number of vectors (new tokens) of the concept. */
  numVectors: number;
  /** Ids whose table rows initialise the vectors (vector i ← row initIds[i mod length]): the class word's tokens. */
  initIds?: readonly number[];
  /** Or the initial values, [numVectors · D] row-major (a saved concept, a golden). */
  values?: Float32Array;
  /** The ids the tokenizer gave the concept's tokens (all ≥ vocab size); default vocab_size + i. */
  tokenIds?: readonly number[];
}

/** A concept's trainable token vectors over a frozen CLIP text encoder. */
export class TextualInversion {
  private constructor(
    private readonly table: RowTable,
    /** Trainable [N, D]. */
    readonly vectors: tf.Variable<tf.Rank.R2>,
    /** The ids of the concept's tokens, one per vector. */
    readonly tokenIds: readonly number[],
  ) {}

  static create(text: Weights, init: TextualInversionInit): TextualInversion {
    const [V, D] = text.shape(TABLE);
    const table = text.rowTable(TABLE, [V, D]);
    const n = init.numVectors;
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`TextualInversion: numVectors must be a positive integer, got ${n}.`);
    const tokenIds = init.tokenIds ?? Array.from({ length: n }, (_, i) => V + i);
    if (tokenIds.length !== n || tokenIds.some((id) => !Number.isInteger(id) || id < V)) {
      throw new Error(`TextualInversion: ${n} token ids ≥ ${V} needed, got [${tokenIds}].`);
    }
    let initial: tf.Tensor2D;
    if (init.values) {
      if (init.values.length !== n * D) throw new Error(`TextualInversion: ${init.values.length} initial values, ${n}×${D} needed.`);
      initial = tf.tensor2d(init.values, [n, D]);
    } else {
      const ids = init.initIds ?? [];
      if (ids.length === 0) throw new Error('TextualInversion: give initIds (the class word) or values.');
      const picks = Array.from({ length: n }, (_, i) => ids[i % ids.length]);
      initial = tf.tidy(() => table.gather(tf.tensor1d(picks, 'int32')) as tf.Tensor2D);
    }
    const vectors = tf.variable(initial, true);
    initial.dispose();
    return new TextualInversion(table, vectors, [...tokenIds]);
  }

  /** `clipTextEncoder`'s `embedTokens` with the concept's tokens. */
  readonly embedTokens = (ids: tf.Tensor2D): tf.Tensor3D => embedWithRows(this.table, this.tokenIds, this.vectors)(ids);

  /**
   * For gradient checks: a lookup where the table rows of `ids` are trainable too, as in a
   * training run that unfreezes them. Returns the rows (a fresh variable [K, D]: row k is id
   * `rowIds[k]`, the given distinct ids first, then the concept's own) and the lookup; the table
   * is untouched.
   */
  withTrainableRows(ids: readonly number[]): { rowIds: number[]; rows: tf.Variable<tf.Rank.R2>; embedTokens: (ids: tf.Tensor2D) => tf.Tensor3D } {
    const all = [...new Set([...ids, ...this.tokenIds])];
    const initial = tf.tidy(() => this.embedTokens(tf.tensor2d([all], [1, all.length], 'int32')).reshape([all.length, -1]) as tf.Tensor2D);
    const rows = tf.variable(initial, true);
    initial.dispose();
    return { rowIds: all, rows, embedTokens: embedWithRows(this.table, all, rows) };
  }

  dispose(): void {
    this.vectors.dispose();
  }
}
