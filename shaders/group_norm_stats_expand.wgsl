// GroupNorm statistics, stage 3 of 3: copies each group's (mean, rstd) to its channels, so the
// elementwise kernels index statistics by (b, c) with no division by cpg.
// groupStats: vec2 [B*G]; result: vec2 [B, C]. Flat, one invocation per (b, c). Uniforms: C, cpg, groups.
fn main(index: i32) {
  if (index < uniforms.size) {
    let b = index / uniforms.C;
    let c = index - b * uniforms.C;
    result[index] = groupStats[b * uniforms.groups + c / uniforms.cpg];
  }
}
