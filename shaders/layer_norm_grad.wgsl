// LayerNorm backward, input gradient:
//   dxhat = dy * gamma, dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
// x, dy, result: [R, D]; stats: vec2 [R] (mean, rstd); gamma: [D].
// A workgroup of WG invocations handles WG / LANES rows, LANES invocations per row.
// Dispatch: 1-D or 2-D grid of ceil(R / (WG / LANES)) workgroups.
// Uniforms: R, D. Constants: WG, LANES (powers of two, LANES <= WG).

// Per-invocation (sum dxhat, sum dxhat * xhat), reduced over each row's lanes; WG * 8 bytes.
var<workgroup> sums: array<vec2<f32>, WG>;

fn rowSum(v: vec2<f32>) -> vec2<f32> {
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
  let d = select(0, uniforms.D, row < uniforms.R);
  let base = row * uniforms.D;
  let st = stats[min(row, uniforms.R - 1)];
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = lane; c < d; c = c + i32(LANES)) {
    let g = dy[base + c] * gamma[c];
    acc = acc + vec2<f32>(g, g * (x[base + c] - st.x) * st.y);
  }
  let k = rowSum(acc) / f32(uniforms.D);
  for (var c = lane; c < d; c = c + i32(LANES)) {
    let xhat = (x[base + c] - st.x) * st.y;
    result[base + c] = st.y * (dy[base + c] * gamma[c] - k.x - xhat * k.y);
  }
}
