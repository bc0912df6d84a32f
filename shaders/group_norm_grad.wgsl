// GroupNorm backward, input gradient, one element per invocation (any C):
//   u = x - mean, da = dy (* silu'(A u + beta) when SILU), dx = A da + K u + L,
// coefficients from group_norm_grad_table.wgsl.
// x, dy, result: [B, S, C]; table: vec4 [B, C] = (A, mean, K, L); beta: [C].
// Dispatch: 1-D or 2-D grid; index = the linearized global index, guarded by n.
// Uniforms: n, C, batchStride (S * C). Constant: SILU.
fn main(index: i32) {
  if (index < uniforms.n) {
    let b = index / uniforms.batchStride;
    let c = index % uniforms.C;
    let t = table[b * uniforms.C + c];
    let u = x[index] - t.y;
    var da = dy[index];
    if (SILU) {
      let a = t.x * u + beta[c];
      let s = 1.0 / (1.0 + exp(-a));
      da = da * s * (1.0 + a * (1.0 - s));
    }
    result[index] = t.x * da + t.z * u + t.w;
  }
}
