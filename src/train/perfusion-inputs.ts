/**
 * The constant tensors Perfusion's edit reads, made on the CPU in float64 from C⁻¹ (float32, as
 * stored) and the concepts' inputs i* (or, for stored concepts, their i* and C⁻¹ i*): each concept's C⁻¹ i* and energy, and the C⁻¹-orthonormal
 * basis of all the i* that the combined edit projects out (ChenDarYen's prepare(); README of the
 * methods golden: any such basis gives the same projection).
 */
import * as tf from '../gpu/tf';
import { dot, matVec } from './float64-matrix';
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
  return editInputsOf(iStars.map((iStar) => ({ iStar, cInvIStar: matVec(m, iStar, d) })));
}

/** One concept's input and its product with C⁻¹, all the edit needs of C (a stored concept keeps both). */
export interface InputProduct {
  iStar: ArrayLike<number>;
  cInvIStar: ArrayLike<number>;
}

/**
 * The same tensors from each concept's i* and C⁻¹ i* alone (no C⁻¹): Gram–Schmidt in
 * ⟨a, b⟩ = aᵀ C⁻¹ b in float64 carries every u_j with C⁻¹ u_j, both combinations of the i*s
 * and the C⁻¹ i*s (C⁻¹ is symmetric); dependent inputs are refused.
 */
export function editInputsOf(products: readonly InputProduct[]): EditInputs {
  const d = products[0].iStar.length;
  const u: Float64Array[] = [];
  const cInvU: Float64Array[] = [];
  for (const [c, p] of products.entries()) {
    if (p.iStar.length !== d || p.cInvIStar.length !== d) throw new Error(`concept input ${c}: i* and C⁻¹ i* must be ${d} wide.`);
    const a = Float64Array.from(p.iStar);
    const ma = Float64Array.from(p.cInvIStar);
    const norm0 = Math.sqrt(dot(a, ma));
    u.forEach((b, j) => {
      const k = dot(a, cInvU[j]);
      for (let i = 0; i < d; i++) {
        a[i] -= k * b[i];
        ma[i] -= k * cInvU[j][i];
      }
    });
    const norm = Math.sqrt(dot(a, ma));
    if (!(norm > 1e-9 * norm0)) throw new Error(`concept input ${c} lies in the span of the others: their edits cannot be told apart.`);
    u.push(a.map((x) => x / norm));
    cInvU.push(ma.map((x) => x / norm));
  }
  const concepts = products.map((p) => ({
    iStar: tf.tensor1d(Float32Array.from(p.iStar)),
    cInvIStar: tf.tensor1d(Float32Array.from(p.cInvIStar)),
    energy: dot(p.iStar, p.cInvIStar),
  }));
  const flat = (rows: Float64Array[]) => Float32Array.from(rows.flatMap((r) => Array.from(r)));
  return { concepts, basis: { u: tf.tensor2d(flat(u), [u.length, d]), cInvU: tf.tensor2d(flat(cInvU), [u.length, d]) } };
}

export function disposeEditInputs(inputs: EditInputs): void {
  tf.dispose([...inputs.concepts.flatMap((c) => [c.iStar, c.cInvIStar]), inputs.basis.u, inputs.basis.cInvU]);
}
