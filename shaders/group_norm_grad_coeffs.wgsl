// GroupNorm backward, per-(batch, group) means of dxhat = gamma * da and of dxhat * xhat:
//   k = (sum_{s, c in g} gamma[c] da, sum gamma[c] da xhat) / N, from the per-channel partials.
// partials: vec2 [B, P, C]; gamma: [C]; result: vec2 [B*G]. Flat, one invocation per (b, g).
// Uniforms: C, cpg, groups, chunks (P), invCount (1 / N, N = S * cpg).
fn main(index: i32) {
  if (index < uniforms.size) {
    let b = index / uniforms.groups;
    let c0 = (index - b * uniforms.groups) * uniforms.cpg;
    var acc = vec2<f32>(0.0, 0.0);
    for (var p = 0; p < uniforms.chunks; p = p + 1) {
      let base = (b * uniforms.chunks + p) * uniforms.C;
      for (var c = c0; c < c0 + uniforms.cpg; c = c + 1) {
        acc = acc + gamma[c] * partials[base + c];
      }
    }
    result[index] = acc * uniforms.invCount;
  }
}
