// AdamW, pass 2 of 2: decoupled weight decay, then the bias-corrected Adam step, in the order
// torch.optim.AdamW applies them:
//   p' = p * (1 - lr * wd)
//   p' = p' - stepSize * m' / (sqrt(v') / sqrt(1 - beta2^t) + eps),  stepSize = lr / (1 - beta1^t)
// Bindings: param: array<f32> [n]; moments: array<vec2<f32>> [n] (from pass 1); result: [n].
// Uniforms: decay = 1 - lr * wd, stepSize, bc2Sqrt = sqrt(1 - beta2^t), eps.
fn main(index: i32) {
  if (index < uniforms.size) {
    let mv = moments[index];
    let denom = sqrt(mv.y) / uniforms.bc2Sqrt + uniforms.eps;
    result[index] = param[index] * uniforms.decay - uniforms.stepSize * (mv.x / denom);
  }
}
