// GroupNorm backward, per-channel partial sums over a chunk of rows:
//   (sum da, sum da * xhat), xhat = (x - mean) * rstd, a = xhat * gamma + beta,
//   da = dy * silu'(a) = dy * s * (1 + a * (1 - s)), s = sigmoid(a), when SILU; else da = dy.
// x, dy: [B, S, C]; stats: vec2 [B, C] (mean, rstd); gamma, beta: [C].
// Dispatch [ceil(C / WG), P, B]: invocation = channel c, workgroup y = chunk p of rowsPerChunk rows.
// result: vec2 [B, P, C]. No workgroup memory.
// Uniforms: S, C, rowsPerChunk, chunks (P). Constants: WG, SILU.
fn main(index: i32) {
  let c = i32(workgroupId.x * WG + localIndex);
  let p = i32(workgroupId.y);
  let b = i32(workgroupId.z);
  if (c < uniforms.C) {
    let st = stats[b * uniforms.C + c];
    let gm = gamma[c];
    let bt = beta[c];
    let row0 = p * uniforms.rowsPerChunk;
    let row1 = min(row0 + uniforms.rowsPerChunk, uniforms.S);
    var acc = vec2<f32>(0.0, 0.0);
    for (var r = row0; r < row1; r = r + 1) {
      let i = (b * uniforms.S + r) * uniforms.C + c;
      let xhat = (x[i] - st.x) * st.y;
      var da = dy[i];
      if (SILU) {
        let a = xhat * gm + bt;
        let s = 1.0 / (1.0 + exp(-a));
        da = da * s * (1.0 + a * (1.0 - s));
      }
      acc = acc + vec2<f32>(da, da * xhat);
    }
    result[(b * uniforms.chunks + p) * uniforms.C + c] = acc;
  }
}
