// AdamW, pass 1 of 2: update the first and second moments (Loshchilov & Hutter 2019, Alg. 2
// lines 7-8), stored interleaved so one tensor holds the optimizer state of one parameter.
//   m' = beta1 * m + (1 - beta1) * g
//   v' = beta2 * v + (1 - beta2) * g^2
// (1 - beta) comes from the host in double precision, as torch does: in f32 it would be off by
// ~1e-5 relative for beta2 = 0.999.
// Bindings: grad: array<f32> [n]; moments: array<vec2<f32>> [n] (m, v); result: like moments.
// Uniforms: beta1, beta2, oneMinusBeta1, oneMinusBeta2. Flat dispatch, one invocation per parameter element.
fn main(index: i32) {
  if (index < uniforms.size) {
    let g = grad[index];
    let mv = moments[index];
    let m = uniforms.beta1 * mv.x + uniforms.oneMinusBeta1 * g;
    let v = uniforms.beta2 * mv.y + uniforms.oneMinusBeta2 * g * g;
    result[index] = vec2<f32>(m, v);
  }
}
