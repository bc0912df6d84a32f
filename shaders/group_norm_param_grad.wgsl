// GroupNorm and LayerNorm backward, gamma or beta gradient: sums the per-channel partials over
// their leading index j: result[c] = sum_j partials[j, c][component]
// (component 0: sum da -> dbeta; 1: sum da * xhat -> dgamma).
// partials: vec2 [J, C]; result: [C]. Flat, one invocation per channel.
// Uniforms: C, rows (J), component.
fn main(index: i32) {
  if (index < uniforms.size) {
    var acc = 0.0;
    for (var j = 0; j < uniforms.rows; j = j + 1) {
      acc = acc + partials[j * uniforms.C + index][uniforms.component];
    }
    result[index] = acc;
  }
}
