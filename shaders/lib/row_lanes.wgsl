// Shared by the LayerNorm row kernels (KernelDef.includes): rows of LANES invocations, WG / LANES
// rows per workgroup of a 1-D or 2-D grid, and the sum of a value over each row's invocations.
// The includer declares `alias RowSum = ...;` (f32 or a vector of f32) and the constants WG,
// LANES (powers of two, LANES <= WG). Defines invocationRow, sums, rowSum.

// The row of this invocation (lane localIndex % LANES of it).
fn invocationRow() -> i32 {
  let workgroup = workgroupId.y * numWorkgroups.x + workgroupId.x;
  return i32(workgroup * (WG / LANES) + localIndex / LANES);
}

// One partial sum per invocation, reduced over each row's LANES invocations; WG * sizeof(RowSum) bytes.
var<workgroup> sums: array<RowSum, WG>;

// Sum of `v` over the LANES invocations of this invocation's row (every invocation gets it).
fn rowSum(v: RowSum) -> RowSum {
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
