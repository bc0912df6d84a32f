/**
 * The constant tensors Perfusion's edit reads, made on the CPU in float64 from C⁻¹ (float32, as
 * stored) and the concepts' inputs i*: each concept's C⁻¹ i* and energy, and the C⁻¹-orthonormal
 * basis of all the i* that the combined edit projects out (ChenDarYen's prepare(); README of the
 * methods golden: any such basis gives the same projection).
 */
import * as tf from '../gpu/tf';
import { dot, matVec, orthonormalBasis } from './float64-matrix';
import type { ConceptInput, ProjectionBasis } from './rank-one-edit';

export interface EditInputs {
  concepts: ConceptInput[];
  basis: ProjectionBasis;
}

/** Tensors for the concepts with inputs `iStars` ([D] each) under C⁻¹ `cInv` ([D × D], row-major). */
export function editInputs(cInv: Float32Array, iStars: readonly Float32Array[]): EditInputs {
  const d = iStars[0].length;
  if (cInv.length !== d * d) throw new Error(`C⁻¹ holds ${cInv.length} values, ${d}×${d} needed.`);
  const m = Float64Array.from(cInv);
  const u = orthonormalBasis(m, d, iStars); // first: it may refuse, before any tensor is made
  const concepts = iStars.map((iStar) => {
    const cInvIStar = matVec(m, iStar, d);
    return { iStar: tf.tensor1d(iStar), cInvIStar: tf.tensor1d(Float32Array.from(cInvIStar)), energy: dot(iStar, cInvIStar) };
  });
  const flat = (rows: Float64Array[]) => Float32Array.from(rows.flatMap((r) => Array.from(r)));
  const basis = { u: tf.tensor2d(flat(u), [u.length, d]), cInvU: tf.tensor2d(flat(u.map((r) => matVec(m, r, d))), [u.length, d]) };
  return { concepts, basis };
}

export function disposeEditInputs(inputs: EditInputs): void {
  tf.dispose([...inputs.concepts.flatMap((c) => [c.iStar, c.cInvIStar]), inputs.basis.u, inputs.basis.cInvU]);
}
