// GroupNorm statistics, stage 1 of 3: per-channel mean and M2 (sum of squared deviations from
// that mean) over a chunk of rows, two-pass. Reading every channel of a row chunk keeps the
// reads contiguous (one group's channels alone are a narrow strided column).
// x: [B, S, C] row-major (channels fastest). Chunk p covers rows [p*rowsPerChunk, min(S, (p+1)*rowsPerChunk)).
// Dispatch [ceil(C / WG), P, B]: invocation = channel c, workgroup y = chunk p.
// result: vec2 [B, P, C] = (mean, M2). No workgroup memory.
// Uniforms: S, C, rowsPerChunk, chunks (P). Constant: WG.
fn main(index: i32) {
  let c = i32(workgroupId.x * WG + localIndex);
  let p = i32(workgroupId.y);
  let b = i32(workgroupId.z);
  if (c < uniforms.C) {
    let row0 = p * uniforms.rowsPerChunk;
    let row1 = min(row0 + uniforms.rowsPerChunk, uniforms.S);
    let first = (b * uniforms.S + row0) * uniforms.C + c;
    let last = (b * uniforms.S + row1) * uniforms.C + c;
    var s = 0.0;
    for (var i = first; i < last; i = i + uniforms.C) {
      s = s + x[i];
    }
    let mean = s / f32(row1 - row0);
    var m2 = 0.0;
    for (var i = first; i < last; i = i + uniforms.C) {
      let d = x[i] - mean;
      m2 = m2 + d * d;
    }
    result[(b * uniforms.chunks + p) * uniforms.C + c] = vec2<f32>(mean, m2);
  }
}
