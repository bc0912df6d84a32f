// y = a · B (+ bias) with B read from f16 pairs: B(i, c) = W[c * inner + i] when TRANSPOSE_B
// (W is [cols, inner], nn.Linear's [out, in]: y = x · Wᵀ) else W[i * cols + c] (W is [inner, cols]).
// Bindings: a: array<f32> [m, inner] row-major; w: array<i32> [ceil(inner*cols/2)], element e in
// word e/2 (low half when e is even); bias: array<f32> [cols], read only when HAS_BIAS;
// result: array<f32> [m, cols].
// Workgroup (WG_X, WG_Y) computes a TILE_M x TILE_N block of y (TILE_M = WG_Y * ROWS, TILE_N =
// 4 * WG_X); invocation (lx, ly) owns rows ly * ROWS + i and the 4 columns 4 lx .. 4 lx + 3, as
// vec4 accumulators. Dispatch [ceil(cols/TILE_N), ceil(m/TILE_M), 1].

// One K-slice of a, 4 k per vec4: aTile[r][q] = a[rowStart + r, k0 + 4q .. 4q+3] (0 outside a).
var<workgroup> aTile: array<array<vec4<f32>, TILE_K4>, TILE_M>;
// The same K-slice of B, unpacked, 4 columns per vec4: bTile[k][q] = B(k0 + k, colStart + 4q .. 4q+3).
var<workgroup> bTile: array<array<vec4<f32>, WG_X>, TILE_K>;

fn readA(row: i32, k: i32) -> f32 {
  if (row < uniforms.m && k < uniforms.inner) {
    return a[row * uniforms.inner + k];
  }
  return 0.0;
}

fn readB(k: i32, col: i32) -> f32 {
  if (k < uniforms.inner && col < uniforms.cols) {
    let e = select(k * uniforms.cols + col, col * uniforms.inner + k, TRANSPOSE_B);
    let pair = unpack2x16float(bitcast<u32>(w[e >> 1u]));
    return select(pair.x, pair.y, (e & 1) == 1);
  }
  return 0.0;
}

const THREADS: i32 = WG_X * WG_Y;

fn main(index: i32) {
  let lx = i32(localId.x);
  let ly = i32(localId.y);
  let li = i32(localIndex);
  let rowStart = i32(workgroupId.y) * TILE_M;
  let colStart = i32(workgroupId.x) * (4 * WG_X);
  var acc: array<vec4<f32>, ROWS>;

  let numTiles = (uniforms.inner + TILE_K - 1) / TILE_K;
  for (var t = 0; t < numTiles; t++) {
    let k0 = t * TILE_K;
    for (var idx = li; idx < TILE_M * TILE_K4; idx += THREADS) {
      let r = idx / TILE_K4;
      let k = k0 + 4 * (idx % TILE_K4);
      let row = rowStart + r;
      aTile[r][idx % TILE_K4] = vec4<f32>(readA(row, k), readA(row, k + 1), readA(row, k + 2), readA(row, k + 3));
    }
    for (var idx = li; idx < TILE_K * WG_X; idx += THREADS) {
      // Transposed W runs along k: neighbouring invocations take neighbouring k.
      let k = select(idx / WG_X, idx % TILE_K, TRANSPOSE_B);
      let q = select(idx % WG_X, idx / TILE_K, TRANSPOSE_B);
      let c = colStart + 4 * q;
      bTile[k][q] = vec4<f32>(readB(k0 + k, c), readB(k0 + k, c + 1), readB(k0 + k, c + 2), readB(k0 + k, c + 3));
    }
    workgroupBarrier();

    for (var q = 0; q < TILE_K4; q++) {
      let b0 = bTile[4 * q][lx];
      let b1 = bTile[4 * q + 1][lx];
      let b2 = bTile[4 * q + 2][lx];
      let b3 = bTile[4 * q + 3][lx];
      for (var i = 0; i < ROWS; i++) {
        let av = aTile[ly * ROWS + i][q];
        acc[i] = fma(vec4<f32>(av.x), b0, acc[i]);
        acc[i] = fma(vec4<f32>(av.y), b1, acc[i]);
        acc[i] = fma(vec4<f32>(av.z), b2, acc[i]);
        acc[i] = fma(vec4<f32>(av.w), b3, acc[i]);
      }
    }
    workgroupBarrier();
  }

  for (var i = 0; i < ROWS; i++) {
    let row = rowStart + ly * ROWS + i;
    for (var j = 0; j < 4; j++) {
      let col = colStart + 4 * lx + j;
      if (row < uniforms.m && col < uniforms.cols) {
        var v = acc[i][j];
        if (HAS_BIAS) {
          v += bias[col];
        }
        result[row * uniforms.cols + col] = v;
      }
    }
  }
}
