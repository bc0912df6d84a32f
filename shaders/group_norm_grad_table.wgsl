// GroupNorm backward, per-(batch, channel) coefficients of the input gradient. With
// u = x - mean, xhat = u rstd and (k1, k2) the group means of dxhat and dxhat * xhat:
//   dx = rstd (gamma da - k1 - xhat k2) = A da + K u + L,  a = A u + beta (SiLU's input),
//   A = rstd gamma, K = -rstd^2 k2, L = -rstd k1.
// stats: vec2 [B, C] (mean, rstd); coeffs: vec2 [B*G] (k1, k2); gamma: [C].
// result: vec4 [B, C] = (A, mean, K, L). Flat, one invocation per (b, c). Uniforms: C, cpg, groups.
fn main(index: i32) {
  if (index < uniforms.size) {
    let b = index / uniforms.C;
    let c = index - b * uniforms.C;
    let st = stats[index];
    let k = coeffs[b * uniforms.groups + c / uniforms.cpg];
    result[index] = vec4<f32>(st.y * gamma[c], st.x, -st.y * st.y * k.y, -st.y * k.x);
  }
}
