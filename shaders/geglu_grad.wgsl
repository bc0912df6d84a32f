// GEGLU backward: with y = a * gelu(b), gelu(b) = b Phi(b), gelu'(b) = Phi(b) + b phi(b),
// dh = [dy * gelu(b) | dy * a * gelu'(b)].
// Bindings: h: array<f32> [rows, 2F]; dy: array<f32> [rows, F]; result (dh): [rows, 2F].
// Explicit 1D-or-2D dispatch (main still gets the global index), one invocation per element
// of dy, writing both halves; uniforms.count = rows * F.

const SQRT1_2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

fn erfcLarge(t: f32) -> f32 {
  let s = t * t;
  var r = fma(-1.72853470e-5, t, 3.83197126e-4);
  let u = fma(-3.88396438e-3, t, 2.42546219e-2);
  r = fma(r, s, u);
  r = fma(r, t, -1.06777877e-1);
  r = fma(r, t, -6.34846687e-1);
  r = fma(r, t, -1.28717512e-1);
  r = fma(r, t, -t);
  return exp(r);
}

fn erfSmall(z: f32) -> f32 {
  let s = z * z;
  var r = -5.96761703e-4;
  r = fma(r, s, 4.99119423e-3);
  r = fma(r, s, -2.67681349e-2);
  r = fma(r, s, 1.12819925e-1);
  r = fma(r, s, -3.76125336e-1);
  r = fma(r, s, 1.28379166e-1);
  return fma(r, z, z);
}

fn onePlusErf(z: f32) -> f32 {
  let t = abs(z);
  if (t > 0.927734375) {
    let c = erfcLarge(t);
    return select(2.0 - c, c, z < 0.0);
  }
  return 1.0 + erfSmall(z);
}

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
