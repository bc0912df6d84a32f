// Gathers rows of a packed f16 table as f32: result[r, c] = table[ids[r] - firstRow, c], or 0
// when ids[r] is outside [firstRow, firstRow + rows) (a row chunk of a larger table).
// Bindings: table: array<i32> [ceil(rows·width/2)], row-major [rows, width], element e in word
// e/2 (low half when e is even); ids: array<i32> [n]; result: array<f32> [n·width], row-major.
// 2D dispatch (main gets the global index), one invocation per result element;
// uniforms.count = n·width.
fn main(index: i32) {
  if (index >= uniforms.count) {
    return;
  }
  let r = index / uniforms.width;
  let c = index - r * uniforms.width;
  let row = ids[r] - uniforms.firstRow;
  var value = 0.0;
  if (row >= 0 && row < uniforms.rows) {
    let e = row * uniforms.width + c;
    let pair = unpack2x16float(bitcast<u32>(table[e / 2]));
    value = select(pair.x, pair.y, (e & 1) == 1);
  }
  result[index] = value;
}
