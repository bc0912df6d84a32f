// Unpacks output channels [first, first + outChannels) of a PyTorch conv weight [out, in, kh, kw]
// of f16 pairs into the tfjs conv2d filter layout [kh, kw, in, outChannels] (f32): the transpose
// happens while unpacking, no extra pass. Bindings: w: array<i32> [ceil(out*in*kh*kw/2)]
// (element e in word e/2, low half when even); result: array<f32> [kh, kw, in, outChannels].
// 2D dispatch (main gets the global index), one invocation per word of the window (two source
// elements, two scattered writes); uniforms.count = words in the window, which starts at word
// uniforms.firstWord (a window other than the whole weight needs in*kh*kw even).

fn store(e: i32, value: f32) {
  if (e < uniforms.elements) {
    let s = e % uniforms.kw;
    let t = e / uniforms.kw;
    let r = t % uniforms.kh;
    let t2 = t / uniforms.kh;
    let ci = t2 % uniforms.inChannels;
    let co = t2 / uniforms.inChannels;
    result[((r * uniforms.kw + s) * uniforms.inChannels + ci) * uniforms.outChannels + co] = value;
  }
}

fn main(index: i32) {
  if (index < uniforms.count) {
    let pair = unpack2x16float(bitcast<u32>(w[uniforms.firstWord + index]));
    store(2 * index, pair.x);
    store(2 * index + 1, pair.y);
  }
}
