// Attention backward, pass 2 of 3: dQ, looping over key tiles (FlashAttention-2, Alg. 2).
//   p_ij = exp2(scaleLog2 * q_i . k_j - lse2_i) [0 where masked], dp_ij = dout_i . v_j,
//   ds_ij = p_ij (dp_ij - D_i), dq_i = scale * sum_j ds_ij k_j
// Bindings (f32, strides in elements): q, dout [B, Nq, H*d]; k, v [B, Nk, H*d];
//   stats: vec2<f32> [B*H*Nq] (lse2, D) from attention_backward_delta; result (dq): [B, Nq, H*d].
// Constants: HEAD_DIM, D4 = ceil(d / 4), THREADS (workgroup size), RPT (query rows per invocation:
//   rows t, t + THREADS, ... of the workgroup's block), KEY_TILE, CAUSAL.
// Uniforms: numQueries, numKeys, numHeads, batch, scale, scaleLog2 = scale * log2(e).
// Dispatch: [ceil(Nq / (THREADS * RPT)), B * H, 1].
const ROWS: i32 = THREADS * RPT; // query rows per workgroup

// K and V tiles: KEY_TILE rows of D4 vec4 (d zero-padded to a multiple of 4), row-major.
var<workgroup> kTile: array<vec4<f32>, KEY_TILE * D4>;
var<workgroup> vTile: array<vec4<f32>, KEY_TILE * D4>;

// Loop bound shared through workgroup memory so barriers stay in uniform control flow
// (workgroupId is a private copy, which WGSL's uniformity analysis treats as non-uniform).
var<workgroup> loopBound: i32;

fn loadQ4(base: i32, c4: i32) -> vec4<f32> {
  let c = c4 * 4;
  if (c + 4 <= HEAD_DIM) { return vec4<f32>(q[base + c], q[base + c + 1], q[base + c + 2], q[base + c + 3]); }
  var r = vec4<f32>(0.0);
  for (var t = 0; t < 4; t++) { if (c + t < HEAD_DIM) { r[t] = q[base + c + t]; } }
  return r;
}

fn loadK4(base: i32, c4: i32) -> vec4<f32> {
  let c = c4 * 4;
  if (c + 4 <= HEAD_DIM) { return vec4<f32>(k[base + c], k[base + c + 1], k[base + c + 2], k[base + c + 3]); }
  var r = vec4<f32>(0.0);
  for (var t = 0; t < 4; t++) { if (c + t < HEAD_DIM) { r[t] = k[base + c + t]; } }
  return r;
}

fn loadV4(base: i32, c4: i32) -> vec4<f32> {
  let c = c4 * 4;
  if (c + 4 <= HEAD_DIM) { return vec4<f32>(v[base + c], v[base + c + 1], v[base + c + 2], v[base + c + 3]); }
  var r = vec4<f32>(0.0);
  for (var t = 0; t < 4; t++) { if (c + t < HEAD_DIM) { r[t] = v[base + c + t]; } }
  return r;
}

fn loadDout4(base: i32, c4: i32) -> vec4<f32> {
  let c = c4 * 4;
  if (c + 4 <= HEAD_DIM) { return vec4<f32>(dout[base + c], dout[base + c + 1], dout[base + c + 2], dout[base + c + 3]); }
  var r = vec4<f32>(0.0);
  for (var t = 0; t < 4; t++) { if (c + t < HEAD_DIM) { r[t] = dout[base + c + t]; } }
  return r;
}

// `index` (the flat global index) is unused: rows come from workgroupId and localIndex.
fn main(index: i32) {
  let nq = uniforms.numQueries;
  let nk = uniforms.numKeys;
  let heads = uniforms.numHeads;
  let bh = i32(workgroupId.y);
  let b = bh / heads;
  let h = bh % heads;
  let rowStride = heads * HEAD_DIM;
  let firstRow = i32(workgroupId.x) * ROWS;

  // Row r of this invocation is firstRow + localIndex + r * THREADS; arrays are [RPT][D4] flattened.
  var qr: array<vec4<f32>, RPT * D4>; // q rows * scaleLog2
  var dor: array<vec4<f32>, RPT * D4>; // dout rows
  var dq: array<vec4<f32>, RPT * D4>;
  var st: array<vec2<f32>, RPT>; // (lse2, D) per row
  var rowKeys: array<i32, RPT>;
  for (var r = 0; r < RPT; r++) {
    let row = firstRow + i32(localIndex) + r * THREADS;
    let clampedRow = min(row, nq - 1);
    let base = (b * nq + clampedRow) * rowStride + h * HEAD_DIM;
    for (var c = 0; c < D4; c++) {
      qr[r * D4 + c] = loadQ4(base, c) * uniforms.scaleLog2;
      dor[r * D4 + c] = loadDout4(base, c);
      dq[r * D4 + c] = vec4<f32>(0.0);
    }
    st[r] = stats[bh * nq + clampedRow];
    rowKeys[r] = select(nk, min(nk, row + 1), CAUSAL);
  }
  var groupKeys = nk;
  if (CAUSAL) { groupKeys = min(nk, min(nq, firstRow + ROWS)); }

  if (localIndex == 0u) { loopBound = groupKeys; }
  let keyEnd = workgroupUniformLoad(&loopBound);
  for (var k0 = 0; k0 < keyEnd; k0 += KEY_TILE) {
    workgroupBarrier();
    for (var e = i32(localIndex); e < KEY_TILE * D4; e += THREADS) {
      let key = k0 + e / D4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (key < nk) {
        let kBase = (b * nk + key) * rowStride + h * HEAD_DIM;
        kv = loadK4(kBase, e % D4);
        vv = loadV4(kBase, e % D4);
      }
      kTile[e] = kv;
      vTile[e] = vv;
    }
    workgroupBarrier();

    let n = min(KEY_TILE, keyEnd - k0);
    for (var j = 0; j < n; j++) {
      // Explicit initialiser: a bare `var s4: T;` in a loop body was not re-zeroed per iteration (Dawn + lavapipe).
      var s4 = array<vec4<f32>, RPT>();
      var dp4 = array<vec4<f32>, RPT>();
      for (var c = 0; c < D4; c++) {
        let kc = kTile[j * D4 + c];
        let vc = vTile[j * D4 + c];
        for (var r = 0; r < RPT; r++) {
          s4[r] = fma(qr[r * D4 + c], kc, s4[r]);
          dp4[r] = fma(dor[r * D4 + c], vc, dp4[r]);
        }
      }
      var ds: array<f32, RPT>;
      for (var r = 0; r < RPT; r++) {
        let p = select(exp2(s4[r].x + s4[r].y + s4[r].z + s4[r].w - st[r].x), 0.0, k0 + j >= rowKeys[r]);
        ds[r] = p * (dp4[r].x + dp4[r].y + dp4[r].z + dp4[r].w - st[r].y);
      }
      for (var c = 0; c < D4; c++) {
        let kc = kTile[j * D4 + c];
        for (var r = 0; r < RPT; r++) { dq[r * D4 + c] = fma(vec4<f32>(ds[r]), kc, dq[r * D4 + c]); }
      }
    }
  }

  for (var r = 0; r < RPT; r++) {
    let row = firstRow + i32(localIndex) + r * THREADS;
    if (row < nq) {
      let base = (b * nq + row) * rowStride + h * HEAD_DIM;
      for (var c = 0; c < D4; c++) {
        let g = dq[r * D4 + c] * uniforms.scale;
        for (var t = 0; t < 4; t++) {
          if (c * 4 + t < HEAD_DIM) { result[base + c * 4 + t] = g[t]; }
        }
      }
    }
  }
}
