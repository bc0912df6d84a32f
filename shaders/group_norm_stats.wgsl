// GroupNorm statistics, stage 2 of 3: merges the per-(chunk, channel) (mean, M2) of each
// (batch, group) with Chan et al.'s parallel formula in two passes (the mean, then
// M2 = sum M2_i + n_i (mean_i - mean)^2), and rstd = 1 / sqrt(M2 / N + eps), N = S * cpg
// (biased variance, as torch). partials: vec2 [B, P, C]; result: vec2 [B*G] = (mean, rstd).
// Flat, one invocation per (b, g). Uniforms: S, C, cpg, groups, rowsPerChunk, chunks (P), eps.
fn chunkRows(p: i32) -> f32 {
  return f32(min(uniforms.rowsPerChunk, uniforms.S - p * uniforms.rowsPerChunk));
}

fn main(index: i32) {
  if (index < uniforms.size) {
    let b = index / uniforms.groups;
    let c0 = (index - b * uniforms.groups) * uniforms.cpg;
    let c1 = c0 + uniforms.cpg;
    var weighted = 0.0;
    for (var p = 0; p < uniforms.chunks; p = p + 1) {
      let base = (b * uniforms.chunks + p) * uniforms.C;
      var s = 0.0;
      for (var c = c0; c < c1; c = c + 1) {
        s = s + partials[base + c].x;
      }
      weighted = weighted + chunkRows(p) * s;
    }
    let n = f32(uniforms.S * uniforms.cpg);
    let mean = weighted / n;
    var m2 = 0.0;
    for (var p = 0; p < uniforms.chunks; p = p + 1) {
      let base = (b * uniforms.chunks + p) * uniforms.C;
      var spread = 0.0;
      for (var c = c0; c < c1; c = c + 1) {
        let part = partials[base + c];
        let d = part.x - mean;
        m2 = m2 + part.y;
        spread = spread + d * d;
      }
      m2 = m2 + chunkRows(p) * spread;
    }
    result[index] = vec2<f32>(mean, 1.0 / sqrt(m2 / n + uniforms.eps));
  }
}
