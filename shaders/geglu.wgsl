// GEGLU forward (diffusers FeedForward): h = [a | b] along the last axis, y = a * gelu(b),
// gelu(b) = 0.5 b (1 + erf(b / sqrt 2)) (exact erf form).
// Bindings: h: array<f32> [rows, 2F] row-major; result (y): [rows, F].
// Explicit 1D-or-2D dispatch (main still gets the global index), one invocation per element of y; uniforms.count = rows * F.

const SQRT1_2: f32 = 0.70710678118654752;

// erf's large-|z| branch (|z| > 0.9277): returns erfc(t) for t = |z| as exp of a polynomial.
// N. Juffa's single-precision erff (max error about 1 ulp).
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

// erf's small-|z| branch (|z| <= 0.9277): odd polynomial.
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

// 1 + erf(z), accurate in relative terms also for z << 0 (uses erfc there, no cancellation).
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
    let a = h[i + row * uniforms.features];
    let b = h[i + (row + 1) * uniforms.features];
    result[i] = a * (0.5 * b * onePlusErf(b * SQRT1_2));
  }
}
