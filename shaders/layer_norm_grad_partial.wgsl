// LayerNorm backward, per-channel partial sums over a chunk of rows: (sum dy, sum dy * xhat),
// xhat = (x - mean[r]) * rstd[r]. x, dy: [R, D]; stats: vec2 [R].
// Dispatch [ceil(D / WG), P, 1]: invocation = channel c, workgroup y = chunk p of rowsPerChunk rows.
// result: vec2 [P, D]. No workgroup memory. Uniforms: R, D, rowsPerChunk. Constant: WG.
fn main(index: i32) {
  let c = i32(workgroupId.x * WG + localIndex);
  let p = i32(workgroupId.y);
  if (c < uniforms.D) {
    let row0 = p * uniforms.rowsPerChunk;
    let row1 = min(row0 + uniforms.rowsPerChunk, uniforms.R);
    var acc = vec2<f32>(0.0, 0.0);
    for (var r = row0; r < row1; r = r + 1) {
      let i = r * uniforms.D + c;
      let st = stats[r];
      let g = dy[i];
      acc = acc + vec2<f32>(g, g * (x[i] - st.x) * st.y);
    }
    result[p * uniforms.D + c] = acc;
  }
}
