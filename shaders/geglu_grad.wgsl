// GEGLU backward: with y = a * gelu(b), gelu(b) = b Phi(b), gelu'(b) = Phi(b) + b phi(b),
// dh = [dy * gelu(b) | dy * a * gelu'(b)].
// Bindings: h: array<f32> [rows, 2F]; dy: array<f32> [rows, F]; result (dh): [rows, 2F].
// Explicit 1D-or-2D dispatch (main still gets the global index), one invocation per element
// of dy, writing both halves; uniforms.count = rows * F.

const INV_SQRT_2PI: f32 = 0.39894228040143268;

// Uses shaders/lib/erf.wgsl (onePlusErf, SQRT1_2).

fn main(i: i32) {
  if (i < uniforms.count) {
    let row = i / uniforms.features;
    let ia = i + row * uniforms.features;
    let ib = ia + uniforms.features;
    let a = h[ia];
    let b = h[ib];
    let g = dy[i];
    let cdf = 0.5 * onePlusErf(b * SQRT1_2);
    let pdf = INV_SQRT_2PI * exp(-0.5 * b * b);
    result[ia] = g * b * cdf;
    result[ib] = g * a * (cdf + b * pdf);
  }
}
