// Shared WGSL: 1 + erf(z) in float32 (N. Juffa's single-precision erff, max error about 1 ulp),
// accurate in relative terms also for z << 0 (uses erfc there, no cancellation).
// Included by KernelDef.includes; defines SQRT1_2, erfcLarge, erfSmall, onePlusErf.

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
