// GroupNorm forward, one element per invocation (any C):
//   y = (x - mean) * rstd * gamma[c] + beta[c], then SiLU y * sigmoid(y) when SILU.
// x, result: [B, S, C] (channels fastest); stats: vec2 [B, C] (mean, rstd of c's group); gamma, beta: [C].
// Dispatch: 1-D or 2-D grid; index = the linearized global index, guarded by n.
// Uniforms: n (elements), C, batchStride (S * C). Constant: SILU.
fn main(index: i32) {
  if (index < uniforms.n) {
    let b = index / uniforms.batchStride;
    let c = index % uniforms.C;
    let st = stats[b * uniforms.C + c];
    var v = (x[index] - st.x) * st.y * gamma[c] + beta[c];
    if (SILU) {
      v = v / (1.0 + exp(-v));
    }
    result[index] = v;
  }
}
