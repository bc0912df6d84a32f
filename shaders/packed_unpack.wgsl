// Unpacks f16 pairs to f32: result[e] = f16 element e of w.
// Bindings: w: array<i32> [ceil(n/2)], element e in word e/2 (low half when e is even);
// result: array<f32> [n]. 2D dispatch (main gets the global index), one invocation per word
// (two elements); uniforms.count = words, uniforms.elements = n.
fn main(index: i32) {
  if (index < uniforms.count) {
    let pair = unpack2x16float(bitcast<u32>(w[index]));
    result[2 * index] = pair.x;
    if (2 * index + 1 < uniforms.elements) {
      result[2 * index + 1] = pair.y;
    }
  }
}
