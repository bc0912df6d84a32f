// Shared by the attention kernels that loop over key tiles per query row (forward, dQ), after
// attention_rows.wgsl. The includer supplies KEY_TILE, CAUSAL and the uniforms numQueries,
// numKeys. Defines kTile, vTile, blockKeyEnd, stageKeyTile.

// K and V tiles: KEY_TILE rows of D4 vec4 (d zero-padded to a multiple of 4), row-major.
var<workgroup> kTile: array<vec4<f32>, KEY_TILE * D4>;
var<workgroup> vTile: array<vec4<f32>, KEY_TILE * D4>;

// Keys seen by any row of the block from query row `first` (causal: up to its last row),
// as a workgroup-uniform value for the tile loop.
fn blockKeyEnd(first: i32) -> i32 {
  var keys = uniforms.numKeys;
  if (CAUSAL) { keys = min(keys, min(uniforms.numQueries, first + ROWS)); }
  if (localIndex == 0u) { loopBound = keys; }
  return workgroupUniformLoad(&loopBound);
}

// Stages keys k0 .. k0 + KEY_TILE - 1 of head h in batch b into kTile and vTile (zeros past
// numKeys), between barriers; returns how many of them are below keyEnd. Call it in uniform
// control flow.
fn stageKeyTile(k0: i32, keyEnd: i32, b: i32, h: i32) -> i32 {
  let nk = uniforms.numKeys;
  workgroupBarrier();
  for (var e = i32(localIndex); e < KEY_TILE * D4; e += THREADS) {
    let key = k0 + e / D4;
    var kv = vec4<f32>(0.0);
    var vv = vec4<f32>(0.0);
    if (key < nk) {
      let base = headRowBase(b, key, nk, h);
      kv = loadK4(base, e % D4);
      vv = loadV4(base, e % D4);
    }
    kTile[e] = kv;
    vTile[e] = vv;
  }
  workgroupBarrier();
  return min(KEY_TILE, keyEnd - k0);
}
