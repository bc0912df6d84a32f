// Fused attention forward (flash-attention style, online softmax in the log2 domain).
//   out[b, i, h, :] = sum_j softmax_j(scale * q_i . k_j [causal: j <= i]) v_j
//   lse[b, h, i]    = log(sum_j exp(scale * q_i . k_j))   (natural log, for the backward)
// Bindings (f32, strides in elements): q [B, Nq, H*d]; k, v [B, Nk, H*d]; result: packed flat
//   [B*Nq*H*d] output (layout of q) followed by [B*H*Nq] lse.
// Constants: HEAD_DIM (d), D4 = ceil(d / 4), THREADS (workgroup size), RPT (query rows per
//   invocation: rows t, t + THREADS, ... of the workgroup's block), KEY_TILE (keys per tile), CAUSAL.
// Uniforms: numQueries, numKeys, numHeads, batch, scaleLog2 = scale * log2(e).
// Dispatch: [ceil(Nq / (THREADS * RPT)), B * H, 1].
// Includes lib/attention_rows.wgsl, lib/attention_key_tile.wgsl (loaders, K/V tiles, block).
const LN2: f32 = 0.6931471805599453;
const MASKED: f32 = -3.0e38; // score of a masked key: exp2(MASKED - m) == 0
const M_INIT: f32 = -1.0e30; // running max before any key; above MASKED so masked keys never raise it

// `index` (the flat global index) is unused: rows come from workgroupId and localIndex.
fn main(index: i32) {
  let nq = uniforms.numQueries;
  let nk = uniforms.numKeys;
  let blk = workgroupBlock();

  // Row r of this invocation is blk.first + localIndex + r * THREADS; arrays are [RPT][D4] flattened.
  var qr: array<vec4<f32>, RPT * D4>; // q rows * scaleLog2
  var acc: array<vec4<f32>, RPT * D4>;
  var m: array<f32, RPT>;
  var l: array<f32, RPT>;
  var rowKeys: array<i32, RPT>; // keys visible from each row
  for (var r = 0; r < RPT; r++) {
    let row = blk.first + i32(localIndex) + r * THREADS;
    let qBase = headRowBase(blk.b, min(row, nq - 1), nq, blk.h);
    for (var c = 0; c < D4; c++) {
      qr[r * D4 + c] = loadQ4(qBase, c) * uniforms.scaleLog2;
      acc[r * D4 + c] = vec4<f32>(0.0);
    }
    m[r] = M_INIT;
    l[r] = 0.0;
    rowKeys[r] = select(nk, min(nk, row + 1), CAUSAL);
  }
  let keyEnd = blockKeyEnd(blk.first); // keys visible from any row of the workgroup
  for (var k0 = 0; k0 < keyEnd; k0 += KEY_TILE) {
    let n = stageKeyTile(k0, keyEnd, blk.b, blk.h); // keys in this tile
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

  let lseOffset = uniforms.batch * nq * uniforms.numHeads * HEAD_DIM;
  for (var r = 0; r < RPT; r++) {
    let row = blk.first + i32(localIndex) + r * THREADS;
    if (row < nq) {
      let inv = 1.0 / l[r];
      let outBase = headRowBase(blk.b, row, nq, blk.h);
      for (var c = 0; c < D4; c++) { storeHead4(outBase, c, acc[r * D4 + c] * inv); }
      result[lseOffset + blk.bh * nq + row] = (m[r] + log2(l[r])) * LN2;
    }
  }
}
