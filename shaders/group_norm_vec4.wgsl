// GroupNorm forward, four channels per invocation (C % 4 == 0); math as group_norm.wgsl.
// x, result: vec4 [B, S, C/4]; stats: vec4 [B, C/2] = (mean, rstd) of channel pairs;
// gamma, beta: vec4 [C/4]. Dispatch: 1-D or 2-D grid; index = the linearized global index.
// Uniforms: n (vec4s), C4 (C / 4), batchStride (S * C / 4). Constant: SILU.
fn main(index: i32) {
  if (index < uniforms.n) {
    let b = index / uniforms.batchStride;
    let c4 = index % uniforms.C4;
    let s01 = stats[2 * (b * uniforms.C4 + c4)];
    let s23 = stats[2 * (b * uniforms.C4 + c4) + 1];
    let mean = vec4<f32>(s01.x, s01.z, s23.x, s23.z);
    let rstd = vec4<f32>(s01.y, s01.w, s23.y, s23.w);
    var v = (x[index] - mean) * rstd * gamma[c4] + beta[c4];
    if (SILU) {
      v = v / (1.0 + exp(-v));
    }
    result[index] = v;
  }
}
