// LayerNorm forward, one element per invocation (any D): y = (x - mean[r]) * rstd[r] * gamma[c] + beta[c].
// x, result: [R, D]; stats: vec2 [R] (mean, rstd); gamma, beta: [D].
// Dispatch: 1-D or 2-D grid; index = the linearized global index, guarded by n. Uniforms: n, D.
fn main(index: i32) {
  if (index < uniforms.n) {
    let r = index / uniforms.D;
    let c = index - r * uniforms.D;
    let st = stats[r];
    result[index] = (x[index] - st.x) * st.y * gamma[c] + beta[c];
  }
}
