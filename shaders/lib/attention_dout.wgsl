// Shared by the attention backward row kernels (KernelDef.includes, after attention_rows.wgsl):
// column c4 of the head row at `base` of the includer's f32 binding dout. Defines loadDout4.
fn loadDout4(base: i32, c4: i32) -> vec4<f32> { let i = laneIndices(base, c4); return padLanes(c4, vec4<f32>(dout[i.x], dout[i.y], dout[i.z], dout[i.w])); }
