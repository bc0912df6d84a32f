// QuickGELU backward: with s = sigmoid(1.702 x), dy/dx = s + 1.702 x s (1 - s); dx = dy * dy/dx.
// Bindings: x: array<f32> [n]; dy: array<f32> [n]; result (dx): [n]. Flat dispatch.
fn main(index: i32) {
  if (index < uniforms.size) {
    let v = x[index];
    let s = 1.0 / (1.0 + exp(-1.702 * v));
    result[index] = dy[index] * (s + 1.702 * v * s * (1.0 - s));
  }
}
