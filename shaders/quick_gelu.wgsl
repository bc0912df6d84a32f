// QuickGELU (CLIP's activation): y = x * sigmoid(1.702 x).
// Bindings: x: array<f32> [n]; result: [n]. Flat dispatch.
fn main(index: i32) {
  if (index < uniforms.size) {
    let v = x[index];
    result[index] = v / (1.0 + exp(-1.702 * v));
  }
}
