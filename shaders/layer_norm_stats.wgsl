// LayerNorm statistics over the last dim, two-pass: mean, then
// rstd = 1 / sqrt(mean((x - mean)^2) + eps). x: [R, D]; result: vec2 [R] = (mean, rstd).
// A workgroup of WG invocations handles WG / LANES rows, LANES invocations per row.
// Dispatch: 1-D or 2-D grid of ceil(R / (WG / LANES)) workgroups.
// Uniforms: R, D, eps. Constants: WG, LANES (powers of two, LANES <= WG).

// One partial sum per invocation, reduced over each row's LANES invocations; WG * 4 bytes.
var<workgroup> sums: array<f32, WG>;

/** Sum of `v` over the LANES invocations of this invocation's row (every invocation gets it). */
fn rowSum(v: f32) -> f32 {
  if (LANES == 1u) {
    return v;
  }
  let lane = localIndex % LANES;
  sums[localIndex] = v;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      sums[localIndex] = sums[localIndex] + sums[localIndex + stride];
    }
    workgroupBarrier();
  }
  let total = sums[localIndex - lane];
  workgroupBarrier();
  return total;
}

fn main(index: i32) {
  let workgroup = workgroupId.y * numWorkgroups.x + workgroupId.x;
  let row = i32(workgroup * (WG / LANES) + localIndex / LANES);
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
