/** Embeddings as rows of unit length, and the cosines between them. */

/** Each row scaled to unit L2 norm (a zero row stays zero). */
export function normalizeRows(rows: readonly Float32Array[]): Float32Array[] {
  return rows.map((row) => {
    let sum = 0;
    for (const v of row) sum += v * v;
    const norm = Math.sqrt(sum);
    return norm > 0 ? row.map((v) => v / norm) : row.slice();
  });
}

export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`embeddings of ${a.length} and ${b.length} values`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** cos(a_i, b_j) for every pair: rows of a, columns of b. */
export function cosineMatrix(a: readonly Float32Array[], b: readonly Float32Array[]): number[][] {
  const [na, nb] = [normalizeRows(a), normalizeRows(b)];
  return na.map((x) => nb.map((y) => dot(x, y)));
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('the mean of nothing');
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** The mean of every cosine between a row of a and a row of b. */
export function meanCosine(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  return mean(cosineMatrix(a, b).flat());
}

/** The mean cosine over distinct pairs of rows (1 for a single row). */
export function meanMutualCosine(rows: readonly Float32Array[]): number {
  if (rows.length < 2) return 1;
  const m = cosineMatrix(rows, rows);
  const pairs: number[] = [];
  for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) pairs.push(m[i][j]);
  return mean(pairs);
}
