// LayerNorm statistics over the last dim, two-pass: mean, then
// rstd = 1 / sqrt(mean((x - mean)^2) + eps). x: [R, D]; result: vec2 [R] = (mean, rstd).
// A workgroup of WG invocations handles WG / LANES rows, LANES invocations per row.
// Dispatch: 1-D or 2-D grid of ceil(R / (WG / LANES)) workgroups.
// Uniforms: R, D, eps. Constants: WG, LANES (powers of two, LANES <= WG).

// Row sums (lib/row_lanes.wgsl) of one f32 per invocation; 256 B of workgroup memory at WG = 64.
alias RowSum = f32;

fn main(index: i32) {
  let row = invocationRow();
  let lane = i32(localIndex % LANES);
  // Rows past R read nothing but still reach every barrier.
  let d = select(0, uniforms.D, row < uniforms.R);
  let base = row * uniforms.D;
  var s = 0.0;
  for (var c = lane; c < d; c = c + i32(LANES)) {
    s = s + x[base + c];
  }
  let mean = rowSum(s) / f32(uniforms.D);
  var m2 = 0.0;
  for (var c = lane; c < d; c = c + i32(LANES)) {
    let v = x[base + c] - mean;
    m2 = m2 + v * v;
  }
  let variance = rowSum(m2) / f32(uniforms.D);
  if (lane == 0 && row < uniforms.R) {
    result[row] = vec2<f32>(mean, 1.0 / sqrt(variance + uniforms.eps));
  }
}
