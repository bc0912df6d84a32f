// LayerNorm forward, elementwise: y = (x - mean[r]) * rstd[r] * gamma[c] + beta[c].
// One program text for two widths: one element per invocation (any D), or four channels per
// invocation when D % 4 == 0 (x, result, gamma, beta bound as vec4; the arithmetic broadcasts).
// x, result: [R, D / width]; stats: vec2 [R] (mean, rstd); gamma, beta: [D / width].
// Dispatch: 1-D or 2-D grid; index = the linearized global index, guarded by n.
// Uniforms: n (elements or vec4s), rowLength (D or D / 4: a row's elements or vec4s).
fn main(index: i32) {
  if (index < uniforms.n) {
    let r = index / uniforms.rowLength;
    let c = index - r * uniforms.rowLength;
    let st = stats[r];
    result[index] = (x[index] - st.x) * st.y * gamma[c] + beta[c];
  }
}
