// LayerNorm backward, input gradient:
//   dxhat = dy * gamma, dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
// x, dy, result: [R, D]; stats: vec2 [R] (mean, rstd); gamma: [D].
// A workgroup of WG invocations handles WG / LANES rows, LANES invocations per row.
// Dispatch: 1-D or 2-D grid of ceil(R / (WG / LANES)) workgroups.
// Uniforms: R, D. Constants: WG, LANES (powers of two, LANES <= WG).

// Row sums (lib/row_lanes.wgsl) of (sum dxhat, sum dxhat * xhat) per invocation; 512 B at WG = 64.
alias RowSum = vec2<f32>;

fn main(index: i32) {
  let row = invocationRow();
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
