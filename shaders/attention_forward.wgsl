// Fused attention forward (flash-attention style, online softmax in the log2 domain).
//   out[b, i, h, :] = sum_j softmax_j(scale * q_i . k_j [causal: j <= i]) v_j
//   lse[b, h, i]    = log(sum_j exp(scale * q_i . k_j))   (natural log, for the backward)
// Bindings (f32, strides in elements): q [B, Nq, H*d]; k, v [B, Nk, H*d]; result: packed flat
//   [B*Nq*H*d] output (layout of q) followed by [B*H*Nq] lse.
// Constants: HEAD_DIM (d), D4 = ceil(d / 4), THREADS (workgroup size), RPT (query rows per
//   invocation: rows t, t + THREADS, ... of the workgroup's block), KEY_TILE (keys per tile), CAUSAL.
// Uniforms: numQueries, numKeys, numHeads, batch, scaleLog2 = scale * log2(e).
// Dispatch: [ceil(Nq / (THREADS * RPT)), B * H, 1].
const ROWS: i32 = THREADS * RPT; // query rows per workgroup
const LN2: f32 = 0.6931471805599453;
const MASKED: f32 = -3.0e38; // score of a masked key: exp2(MASKED - m) == 0
const M_INIT: f32 = -1.0e30; // running max before any key; above MASKED so masked keys never raise it

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
  var acc: array<vec4<f32>, RPT * D4>;
  var m: array<f32, RPT>;
  var l: array<f32, RPT>;
  var rowKeys: array<i32, RPT>; // keys visible from each row
  for (var r = 0; r < RPT; r++) {
    let row = firstRow + i32(localIndex) + r * THREADS;
    let qBase = (b * nq + min(row, nq - 1)) * rowStride + h * HEAD_DIM;
    for (var c = 0; c < D4; c++) {
      qr[r * D4 + c] = loadQ4(qBase, c) * uniforms.scaleLog2;
      acc[r * D4 + c] = vec4<f32>(0.0);
    }
    m[r] = M_INIT;
    l[r] = 0.0;
    rowKeys[r] = select(nk, min(nk, row + 1), CAUSAL);
  }
  var groupKeys = nk; // keys visible from any row of the workgroup
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
        let base = (b * nk + key) * rowStride + h * HEAD_DIM;
        kv = loadK4(base, e % D4);
        vv = loadV4(base, e % D4);
      }
      kTile[e] = kv;
      vTile[e] = vv;
    }
    workgroupBarrier();

    let n = min(KEY_TILE, keyEnd - k0);
    for (var j = 0; j < n; j++) {
      // Explicit initialiser: a bare `var s4: T;` in a loop body was not re-zeroed per iteration (Dawn + lavapipe).
      var s4 = array<vec4<f32>, RPT>();
      for (var c = 0; c < D4; c++) {
        let kc = kTile[j * D4 + c];
        for (var r = 0; r < RPT; r++) { s4[r] = fma(qr[r * D4 + c], kc, s4[r]); }
      }
      var p: array<f32, RPT>;
      for (var r = 0; r < RPT; r++) {
        let s = select(s4[r].x + s4[r].y + s4[r].z + s4[r].w, MASKED, k0 + j >= rowKeys[r]);
        if (s > m[r]) { // new running max: rescale (rare after the first keys)
          let alpha = exp2(m[r] - s);
          l[r] *= alpha;
          for (var c = 0; c < D4; c++) { acc[r * D4 + c] *= alpha; }
          m[r] = s;
        }
        p[r] = exp2(s - m[r]);
        l[r] += p[r];
      }
      for (var c = 0; c < D4; c++) {
        let vc = vTile[j * D4 + c];
        for (var r = 0; r < RPT; r++) { acc[r * D4 + c] = fma(vec4<f32>(p[r]), vc, acc[r * D4 + c]); }
      }
    }
  }

  let lseOffset = uniforms.batch * nq * rowStride;
  for (var r = 0; r < RPT; r++) {
    let row = firstRow + i32(localIndex) + r * THREADS;
    if (row < nq) {
      let inv = 1.0 / l[r];
      let outBase = (b * nq + row) * rowStride + h * HEAD_DIM;
      for (var c = 0; c < D4; c++) {
        let o = acc[r * D4 + c] * inv;
        for (var t = 0; t < 4; t++) {
          if (c * 4 + t < HEAD_DIM) { result[outBase + c * 4 + t] = o[t]; }
        }
      }
      result[lseOffset + bh * nq + row] = (m[r] + log2(l[r])) * LN2;
    }
  }
}
