// LayerNorm forward, four channels per invocation (D % 4 == 0); math as layer_norm.wgsl.
// x, result: vec4 [R, D/4]; stats: vec2 [R] (mean, rstd); gamma, beta: vec4 [D/4].
// Dispatch: 1-D or 2-D grid; index = the linearized global index, guarded by n.
// Uniforms: n (vec4s), D4 (D / 4).
fn main(index: i32) {
  if (index < uniforms.n) {
    let r = index / uniforms.D4;
    let c4 = index - r * uniforms.D4;
    let st = stats[r];
    result[index] = (x[index] - st.x) * st.y * gamma[c4] + beta[c4];
  }
}
