// Attention backward, pass 2 of 3: dQ, looping over key tiles (FlashAttention-2, Alg. 2).
//   p_ij = exp2(scaleLog2 * q_i . k_j - lse2_i) [0 where masked], dp_ij = dout_i . v_j,
//   ds_ij = p_ij (dp_ij - D_i), dq_i = scale * sum_j ds_ij k_j
// Bindings (f32, strides in elements): q, dout [B, Nq, H*d]; k, v [B, Nk, H*d];
//   stats: vec2<f32> [B*H*Nq] (lse2, D) from attention_backward_delta; result (dq): [B, Nq, H*d].
// Constants: HEAD_DIM, D4 = ceil(d / 4), THREADS (workgroup size), RPT (query rows per invocation:
//   rows t, t + THREADS, ... of the workgroup's block), KEY_TILE, CAUSAL.
// Uniforms: numQueries, numKeys, numHeads, batch, scale, scaleLog2 = scale * log2(e).
// Dispatch: [ceil(Nq / (THREADS * RPT)), B * H, 1].
// Includes lib/attention_rows.wgsl, lib/attention_dout.wgsl, lib/attention_key_tile.wgsl.

// `index` (the flat global index) is unused: rows come from workgroupId and localIndex.
fn main(index: i32) {
  let nq = uniforms.numQueries;
  let nk = uniforms.numKeys;
  let blk = workgroupBlock();

  // Row r of this invocation is blk.first + localIndex + r * THREADS; arrays are [RPT][D4] flattened.
  var qr: array<vec4<f32>, RPT * D4>; // q rows * scaleLog2
  var dor: array<vec4<f32>, RPT * D4>; // dout rows
  var dq: array<vec4<f32>, RPT * D4>;
  var st: array<vec2<f32>, RPT>; // (lse2, D) per row
  var rowKeys: array<i32, RPT>;
  for (var r = 0; r < RPT; r++) {
    let row = blk.first + i32(localIndex) + r * THREADS;
    let clampedRow = min(row, nq - 1);
    let base = headRowBase(blk.b, clampedRow, nq, blk.h);
    for (var c = 0; c < D4; c++) {
      qr[r * D4 + c] = loadQ4(base, c) * uniforms.scaleLog2;
      dor[r * D4 + c] = loadDout4(base, c);
      dq[r * D4 + c] = vec4<f32>(0.0);
    }
    st[r] = stats[blk.bh * nq + clampedRow];
    rowKeys[r] = select(nk, min(nk, row + 1), CAUSAL);
  }
  let keyEnd = blockKeyEnd(blk.first);
  for (var k0 = 0; k0 < keyEnd; k0 += KEY_TILE) {
    let n = stageKeyTile(k0, keyEnd, blk.b, blk.h); // keys in this tile
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
    let row = blk.first + i32(localIndex) + r * THREADS;
    if (row < nq) {
      let base = headRowBase(blk.b, row, nq, blk.h);
      for (var c = 0; c < D4; c++) { storeHead4(base, c, dq[r * D4 + c] * uniforms.scale); }
    }
  }
}
