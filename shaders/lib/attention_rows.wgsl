// Shared by the attention row kernels (KernelDef.includes). The includer supplies the constants
// HEAD_DIM, D4, THREADS, RPT, the uniform numHeads, the f32 bindings q, k, v and an f32 `result`.
// A head row is HEAD_DIM floats from flat index `base` of a [B, N, H*d] tensor, handled as D4
// vec4 columns zero-padded past HEAD_DIM. Defines ROWS, loopBound, Block, workgroupBlock,
// headRowBase, laneIndices, padLanes, loadQ4, loadK4, loadV4, storeHead4.
const ROWS: i32 = THREADS * RPT; // rows per workgroup

// Loop bound shared through workgroup memory so barriers stay in uniform control flow
// (workgroupId is a private copy, which WGSL's uniformity analysis treats as non-uniform).
var<workgroup> loopBound: i32;

// The workgroup's batch b, head h, bh = b * numHeads + h (workgroupId.y) and first row.
struct Block { b: i32, h: i32, bh: i32, first: i32 }

fn workgroupBlock() -> Block {
  let bh = i32(workgroupId.y);
  return Block(bh / uniforms.numHeads, bh % uniforms.numHeads, bh, i32(workgroupId.x) * ROWS);
}

// Flat index of row `row` of head h in batch b of a [B, rows, H*d] tensor.
fn headRowBase(b: i32, row: i32, rows: i32, h: i32) -> i32 {
  return (b * rows + row) * uniforms.numHeads * HEAD_DIM + h * HEAD_DIM;
}

// Flat indices of the four lanes of column c4, clamped into the row (reads never leave it).
fn laneIndices(base: i32, c4: i32) -> vec4<i32> {
  return base + min(vec4<i32>(c4 * 4) + vec4<i32>(0, 1, 2, 3), vec4<i32>(HEAD_DIM - 1));
}

// x with the lanes of column c4 past HEAD_DIM zeroed.
fn padLanes(c4: i32, x: vec4<f32>) -> vec4<f32> {
  return select(vec4<f32>(0.0), x, vec4<i32>(c4 * 4) + vec4<i32>(0, 1, 2, 3) < vec4<i32>(HEAD_DIM));
}

// Column c4 of the head row at `base` of q, k or v.
fn loadQ4(base: i32, c4: i32) -> vec4<f32> { let i = laneIndices(base, c4); return padLanes(c4, vec4<f32>(q[i.x], q[i.y], q[i.z], q[i.w])); }
fn loadK4(base: i32, c4: i32) -> vec4<f32> { let i = laneIndices(base, c4); return padLanes(c4, vec4<f32>(k[i.x], k[i.y], k[i.z], k[i.w])); }
fn loadV4(base: i32, c4: i32) -> vec4<f32> { let i = laneIndices(base, c4); return padLanes(c4, vec4<f32>(v[i.x], v[i.y], v[i.z], v[i.w])); }

// Writes the lanes of column c4 inside HEAD_DIM to the head row at result[base].
fn storeHead4(base: i32, c4: i32, x: vec4<f32>) {
  for (var t = 0; t < 4; t++) {
    if (c4 * 4 + t < HEAD_DIM) { result[base + c4 * 4 + t] = x[t]; }
  }
}
