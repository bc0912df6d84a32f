// Attention backward, pass 3 of 3: dK and dV, looping over query tiles (FlashAttention-2, Alg. 2).
//   p_ij = exp2(scaleLog2 * q_i . k_j - lse2_i) [0 where masked], dv_j = sum_i p_ij dout_i,
//   ds_ij = p_ij (dout_i . v_j - D_i), dk_j = scale * sum_i ds_ij q_i
// Bindings (f32, strides in elements): q, dout [B, Nq, H*d]; k, v [B, Nk, H*d];
//   stats: vec2<f32> [B*H*Nq] (lse2, D) from attention_backward_delta;
//   result: packed flat [B*Nk*H*d] dk followed by [B*Nk*H*d] dv (layout of k).
// Constants: HEAD_DIM, D4 = ceil(d / 4), THREADS (workgroup size), RPT (key rows per invocation:
//   keys t, t + THREADS, ... of the workgroup's block), QUERY_TILE, CAUSAL.
// Uniforms: numQueries, numKeys, numHeads, batch, scale, scaleLog2 = scale * log2(e).
// Dispatch: [ceil(Nk / (THREADS * RPT)), B * H, 1].
const ROWS: i32 = THREADS * RPT; // key rows per workgroup

// Q and dout tiles: QUERY_TILE rows of D4 vec4 (d zero-padded), row-major; stats of those rows.
var<workgroup> qTile: array<vec4<f32>, QUERY_TILE * D4>;
var<workgroup> doTile: array<vec4<f32>, QUERY_TILE * D4>;
var<workgroup> statsTile: array<vec2<f32>, QUERY_TILE>;

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
  let firstKey = i32(workgroupId.x) * ROWS;

  // Key r of this invocation is firstKey + localIndex + r * THREADS; arrays are [RPT][D4] flattened.
  var kr: array<vec4<f32>, RPT * D4>; // k rows * scaleLog2
  var vr: array<vec4<f32>, RPT * D4>;
  var dk: array<vec4<f32>, RPT * D4>;
  var dv: array<vec4<f32>, RPT * D4>;
  for (var r = 0; r < RPT; r++) {
    let key = firstKey + i32(localIndex) + r * THREADS;
    let base = (b * nk + min(key, nk - 1)) * rowStride + h * HEAD_DIM;
    for (var c = 0; c < D4; c++) {
      kr[r * D4 + c] = loadK4(base, c) * uniforms.scaleLog2;
      vr[r * D4 + c] = loadV4(base, c);
      dk[r * D4 + c] = vec4<f32>(0.0);
      dv[r * D4 + c] = vec4<f32>(0.0);
    }
  }
  // Causal: query i sees key j when j <= i, so rows before this workgroup's first key see none of its keys.
  var firstQuery = 0;
  if (CAUSAL) { firstQuery = (min(firstKey, nq) / QUERY_TILE) * QUERY_TILE; }

  if (localIndex == 0u) { loopBound = firstQuery; }
  let queryStart = workgroupUniformLoad(&loopBound);
  for (var q0 = queryStart; q0 < nq; q0 += QUERY_TILE) {
    workgroupBarrier();
    for (var e = i32(localIndex); e < QUERY_TILE * D4; e += THREADS) {
      let qRow = q0 + e / D4;
      var qv = vec4<f32>(0.0);
      var dov = vec4<f32>(0.0);
      if (qRow < nq) {
        let qBase = (b * nq + qRow) * rowStride + h * HEAD_DIM;
        qv = loadQ4(qBase, e % D4);
        dov = loadDout4(qBase, e % D4);
      }
      qTile[e] = qv;
      doTile[e] = dov;
    }
    for (var e = i32(localIndex); e < QUERY_TILE; e += THREADS) {
      statsTile[e] = stats[bh * nq + min(q0 + e, nq - 1)];
    }
    workgroupBarrier();

    let n = min(QUERY_TILE, nq - q0);
    for (var i = 0; i < n; i++) {
      // Explicit initialiser: a bare `var s4: T;` in a loop body was not re-zeroed per iteration (Dawn + lavapipe).
      var s4 = array<vec4<f32>, RPT>();
      var dp4 = array<vec4<f32>, RPT>();
      for (var c = 0; c < D4; c++) {
        let qc = qTile[i * D4 + c];
        let doc = doTile[i * D4 + c];
        for (var r = 0; r < RPT; r++) {
          s4[r] = fma(kr[r * D4 + c], qc, s4[r]);
          dp4[r] = fma(vr[r * D4 + c], doc, dp4[r]);
        }
      }
      let st = statsTile[i];
      var p: array<f32, RPT>;
      var ds: array<f32, RPT>;
      for (var r = 0; r < RPT; r++) {
        p[r] = exp2(s4[r].x + s4[r].y + s4[r].z + s4[r].w - st.x);
        if (CAUSAL) { p[r] = select(p[r], 0.0, firstKey + i32(localIndex) + r * THREADS > q0 + i); }
        ds[r] = p[r] * (dp4[r].x + dp4[r].y + dp4[r].z + dp4[r].w - st.y);
      }
      for (var c = 0; c < D4; c++) {
        let qc = qTile[i * D4 + c];
        let doc = doTile[i * D4 + c];
        for (var r = 0; r < RPT; r++) {
          dv[r * D4 + c] = fma(vec4<f32>(p[r]), doc, dv[r * D4 + c]);
          dk[r * D4 + c] = fma(vec4<f32>(ds[r]), qc, dk[r * D4 + c]);
        }
      }
    }
  }

  let dvOffset = uniforms.batch * nk * rowStride;
  for (var r = 0; r < RPT; r++) {
    let key = firstKey + i32(localIndex) + r * THREADS;
    if (key < nk) {
      let base = (b * nk + key) * rowStride + h * HEAD_DIM;
      for (var c = 0; c < D4; c++) {
        let gk = dk[r * D4 + c] * uniforms.scale;
        let gv = dv[r * D4 + c];
        for (var t = 0; t < 4; t++) {
          if (c * 4 + t < HEAD_DIM) {
            result[base + c * 4 + t] = gk[t];
            result[dvOffset + base + c * 4 + t] = gv[t];
          }
        }
      }
    }
  }
}
