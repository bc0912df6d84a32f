import { describe, expect, it } from 'vitest';
import { formatRefusal } from '../../test/import-refusals';
import { StorageRef, TensorRef, type StorageDtype } from './pickle-values';
import { tensorFloat32 } from './torch-tensor';

const ref = (dtype: StorageDtype, numel: number, offset: number, size: number[], stride: number[]) => new TensorRef(new StorageRef(dtype, '0', 'cpu', numel), offset, size, stride);

const refusal = formatRefusal;

describe('torch tensor values', () => {
  const f32 = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

  it('gathers a 3-D view by its strides, from an unaligned little-endian storage', () => {
    const storage = Float32Array.from({ length: 24 }, (_, i) => i);
    const unaligned = new Uint8Array(24 * 4 + 1).subarray(1);
    unaligned.set(new Uint8Array(storage.buffer));
    // x = arange(24).view(2, 3, 4).permute(2, 0, 1)[1:3] — size [2, 2, 3], stride [1, 12, 4], offset 1
    const got = tensorFloat32(ref('F32', 24, 1, [2, 2, 3], [1, 12, 4]), unaligned, 'x');
    const expected: number[] = [];
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) expected.push(1 + a + 12 * b + 4 * c);
    expect([...got]).toEqual(expected);
  });

  it('reads a 0-d tensor, an empty one, and F64 rounded to float32', () => {
    expect([...tensorFloat32(ref('F32', 3, 2, [], []), f32([1, 2, 3]), 'x')]).toEqual([3]);
    expect(tensorFloat32(ref('F32', 3, 0, [0, 5], [5, 1]), f32([1, 2, 3]), 'x').length).toBe(0);
    const f64 = new Uint8Array(Float64Array.from([0.1, -2]).buffer);
    expect([...tensorFloat32(ref('F64', 2, 0, [2], [1]), f64, 'x')]).toEqual([Math.fround(0.1), -2]);
  });

  it('refuses integer storages, wrong storage sizes, views past the storage and views larger than it', () => {
    expect(refusal(() => tensorFloat32(ref('I64', 1, 0, [1], [1]), new Uint8Array(8), 'tok')).message).toBe('tok: the tensor is I64, not floating point.');
    expect(refusal(() => tensorFloat32(ref('F32', 4, 0, [4], [1]), f32([1, 2, 3]), 'x')).message).toMatch(/holds 12 bytes, not the 4 F32 values/);
    expect(refusal(() => tensorFloat32(ref('F32', 3, 1, [3], [1]), f32([1, 2, 3]), 'x')).message).toMatch(/runs past its storage's 3 values/);
    expect(refusal(() => tensorFloat32(ref('F32', 3, 0, [1000, 1000], [0, 0]), f32([1, 2, 3]), 'x')).message).toMatch(/holds more values than its storage's 3/);
  });
});
