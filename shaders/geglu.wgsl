// GEGLU forward (diffusers FeedForward): h = [a | b] along the last axis, y = a * gelu(b),
// gelu(b) = 0.5 b (1 + erf(b / sqrt 2)) (exact erf form).
// Bindings: h: array<f32> [rows, 2F] row-major; result (y): [rows, F].
// Explicit 1D-or-2D dispatch (main still gets the global index), one invocation per element of y; uniforms.count = rows * F.

// Uses shaders/lib/erf.wgsl (onePlusErf, SQRT1_2).

fn main(i: i32) {
  if (i < uniforms.count) {
    let row = i / uniforms.features;
    let a = h[i + row * uniforms.features];
    let b = h[i + (row + 1) * uniforms.features];
    result[i] = a * (0.5 * b * onePlusErf(b * SQRT1_2));
  }
}
