// GroupNorm backward, input gradient, four channels per invocation (C % 4 == 0); math as
// group_norm_grad.wgsl. x, dy, result: vec4 [B, S, C/4]; table: vec4 [B, C] = (A, mean, K, L);
// beta: vec4 [C/4]. Dispatch: 1-D or 2-D grid; index = the linearized global index, guarded by n.
// Uniforms: n (vec4s), C4 (C / 4), batchStride (S * C / 4). Constant: SILU.
fn main(index: i32) {
  if (index < uniforms.n) {
    let b = index / uniforms.batchStride;
    let c4 = index % uniforms.C4;
    let c = 4 * (b * uniforms.C4 + c4);
    // Four (A, mean, K, L) records transposed into one vec4 per coefficient.
    let t = transpose(mat4x4<f32>(table[c], table[c + 1], table[c + 2], table[c + 3]));
    let u = x[index] - t[1];
    var da = dy[index];
    if (SILU) {
      let a = t[0] * u + beta[c4];
      let s = 1.0 / (1.0 + exp(-a));
      da = da * s * (1.0 + a * (1.0 - s));
    }
    result[index] = t[0] * da + t[2] * u + t[3];
  }
}
