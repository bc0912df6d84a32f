// Attention backward, pass 1 of 3: per query row, the softmax statistics the other passes need.
//   stats[b, h, i] = (lse[b, h, i] * log2(e), D[b, h, i] = sum_c dout[b, i, h, c] * out[b, i, h, c])
// Bindings (strides in elements): output, dout: f32 [B, Nq, H*d]; lse: f32 [B, H, Nq];
//   result: vec2<f32> [B*H*Nq]. Constants: HEAD_DIM. Uniforms: numQueries, numHeads.
// Flat dispatch, one invocation per (b, h, i).
const LOG2E: f32 = 1.4426950408889634;

fn main(index: i32) {
  if (index < uniforms.size) {
    let nq = uniforms.numQueries;
    let heads = uniforms.numHeads;
    let bh = index / nq;
    let row = index % nq;
    let base = ((bh / heads) * nq + row) * heads * HEAD_DIM + (bh % heads) * HEAD_DIM;
    var d = 0.0;
    for (var c = 0; c < HEAD_DIM; c++) { d = fma(output[base + c], dout[base + c], d); }
    result[index] = vec2<f32>(lse[index] * LOG2E, d);
  }
}
