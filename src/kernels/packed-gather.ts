/**
 * Rows of a frozen packed f16 table (`PackedWeight` [rows, width], see packed.ts) gathered as
 * fp32, without an fp32 copy of the table: out[..., c] = table[ids[...] - firstRow, c], 0 for
 * ids outside [firstRow, firstRow + rows) (a table kept in row chunks gathers chunk by chunk).
 * `shaders/packed_gather.wgsl`, one invocation per output element; no workgroup memory;
 * allocates only the output [...ids.shape, width]. No gradient: the table is frozen and ids
 * are integers.
 */
import * as tf from '../gpu/tf';
import gatherSource from '../../shaders/packed_gather.wgsl?raw';
import { runKernel, workgroupGrid, type KernelDef } from './kernel';
import type { PackedWeight } from './packed';

const GATHER_WORKGROUP = 256;
const GATHER: KernelDef = {
  name: 'packed_gather',
  source: gatherSource,
  inputs: ['table', 'ids'],
  uniforms: [['count', 'i32'], ['rows', 'i32'], ['width', 'i32'], ['firstRow', 'i32']],
  workgroupSize: [GATHER_WORKGROUP, 1, 1],
};

export function gatherPackedRows(table: PackedWeight, ids: tf.Tensor, firstRow = 0): tf.Tensor {
  if (table.shape.length !== 2) throw new Error(`gatherPackedRows: table shape [${table.shape}] is not [rows, width].`);
  if (ids.dtype !== 'int32') throw new Error(`gatherPackedRows: ids must be int32, got ${ids.dtype}.`);
  const [rows, width] = table.shape;
  const count = ids.size * width;
  return runKernel(GATHER, {
    inputs: [table.data, ids],
    outputShape: [...ids.shape, width],
    uniforms: { count, rows, width, firstRow },
    dispatch: workgroupGrid(Math.ceil(count / GATHER_WORKGROUP)),
  });
}
