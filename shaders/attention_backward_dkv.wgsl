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
// Includes lib/attention_rows.wgsl, lib/attention_dout.wgsl.

// Q and dout tiles: QUERY_TILE rows of D4 vec4 (d zero-padded), row-major; stats of those rows.
var<workgroup> qTile: array<vec4<f32>, QUERY_TILE * D4>;
var<workgroup> doTile: array<vec4<f32>, QUERY_TILE * D4>;
var<workgroup> statsTile: array<vec2<f32>, QUERY_TILE>;

// Stages query rows q0 .. q0 + QUERY_TILE - 1 of the block's head into qTile, doTile (zeros past
// numQueries) and statsTile, between barriers; returns how many rows are below numQueries. The
// mirror of lib/attention_key_tile.wgsl's stageKeyTile for the other operands (WGSL cannot pass
// workgroup tiles or storage bindings as parameters). Call it in uniform control flow.
fn stageQueryTile(q0: i32, blk: Block) -> i32 {
  let nq = uniforms.numQueries;
  workgroupBarrier();
  for (var e = i32(localIndex); e < QUERY_TILE * D4; e += THREADS) {
    let qRow = q0 + e / D4;
    var qv = vec4<f32>(0.0);
    var dov = vec4<f32>(0.0);
    if (qRow < nq) {
      let qBase = headRowBase(blk.b, qRow, nq, blk.h);
      qv = loadQ4(qBase, e % D4);
      dov = loadDout4(qBase, e % D4);
    }
    qTile[e] = qv;
    doTile[e] = dov;
  }
  for (var e = i32(localIndex); e < QUERY_TILE; e += THREADS) {
    statsTile[e] = stats[blk.bh * nq + min(q0 + e, nq - 1)];
  }
  workgroupBarrier();
  return min(QUERY_TILE, nq - q0);
}

// `index` (the flat global index) is unused: rows come from workgroupId and localIndex.
fn main(index: i32) {
  let nq = uniforms.numQueries;
  let nk = uniforms.numKeys;
  let blk = workgroupBlock();
  let firstKey = blk.first;

  // Key r of this invocation is firstKey + localIndex + r * THREADS; arrays are [RPT][D4] flattened.
  var kr: array<vec4<f32>, RPT * D4>; // k rows * scaleLog2
  var vr: array<vec4<f32>, RPT * D4>;
  var dk: array<vec4<f32>, RPT * D4>;
  var dv: array<vec4<f32>, RPT * D4>;
  for (var r = 0; r < RPT; r++) {
    let key = firstKey + i32(localIndex) + r * THREADS;
    let base = headRowBase(blk.b, min(key, nk - 1), nk, blk.h);
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
    let n = stageQueryTile(q0, blk); // query rows in this tile
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

  let dvOffset = uniforms.batch * nk * uniforms.numHeads * HEAD_DIM;
  for (var r = 0; r < RPT; r++) {
    let key = firstKey + i32(localIndex) + r * THREADS;
    if (key < nk) {
      let base = headRowBase(blk.b, key, nk, blk.h);
      for (var c = 0; c < D4; c++) {
        storeHead4(base, c, dk[r * D4 + c] * uniforms.scale);
        storeHead4(dvOffset + base, c, dv[r * D4 + c]);
      }
    }
  }
}
