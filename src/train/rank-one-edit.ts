/**
 * Perfusion's key-locked gated rank-1 edit of a cross-attention K or V projection W (Tewel et al.
 * 2023; the formulas of lucidrains' Rank1EditModule and ChenDarYen's ROELinear /
 * MultiConceptsROELinear, as src/test/fixtures/tiny-sd-golden-methods/README.md writes them).
 * For each text encoding e and each concept c with input i*_c (its encoding at the concept token):
 *   sim_c(e) = eᵀ C⁻¹ i*_c / (i*_cᵀ C⁻¹ i*_c)        σ_c(e) = sigmoid((sim_c − β) / τ)
 *   e⊥       = e − Σ_j u_j (eᵀ C⁻¹ u_j)              (u_j: a C⁻¹-orthonormal basis of the i*_c)
 *   W'e      = W e⊥ + Σ_c σ_c(e) o_c
 * With one concept e⊥ = e − sim(e) i*. The projection uses the ungated sim; i* and C⁻¹ are
 * constants (no gradient), so gradients reach the encodings e (the concept's embedding) and the
 * learned targets o_c (values; keys are locked to W_k i_superclass).
 */
import * as tf from '../gpu/tf';

/** The gate's bias β and temperature τ. */
export interface Gate {
  beta: number;
  tau: number;
}

/** The reference's training gate, and the inference default (its bias is the generation-time knob). */
export const TRAINING_GATE: Gate = { beta: 0.75, tau: 0.1 };
export const INFERENCE_GATE: Gate = { beta: 0.7, tau: 0.15 };

/** One concept's input: i* [D] and C⁻¹ i* [D] (float32 tensors), and its energy i*ᵀ C⁻¹ i*. */
export interface ConceptInput {
  iStar: tf.Tensor1D;
  cInvIStar: tf.Tensor1D;
  energy: number;
}

/** The concepts' C⁻¹-orthonormal basis, u [J, D], with C⁻¹ u [J, D]. */
export interface ProjectionBasis {
  u: tf.Tensor2D;
  cInvU: tf.Tensor2D;
}

/** sim_c(e) for encodings e [B, N, D]: [B, N]. */
export function conceptSimilarity(e: tf.Tensor3D, c: ConceptInput): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, n, d] = e.shape;
    return tf.matMul(e.reshape([b * n, d]) as tf.Tensor2D, c.cInvIStar.reshape([d, 1]) as tf.Tensor2D).div(c.energy).reshape([b, n]) as tf.Tensor2D;
  });
}

/** σ(sim) = sigmoid((sim − β) / τ). */
export function gateOf(sim: tf.Tensor2D, gate: Gate): tf.Tensor2D {
  return tf.tidy(() => tf.sigmoid(sim.sub(gate.beta).div(gate.tau)) as tf.Tensor2D);
}

/** e − Σ_j u_j (eᵀ C⁻¹ u_j): e with the concepts' inputs projected out in the C⁻¹ inner product. */
export function projectOut(e: tf.Tensor3D, basis: ProjectionBasis): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, n, d] = e.shape;
    const flat = e.reshape([b * n, d]) as tf.Tensor2D;
    const coefficients = tf.matMul(flat, basis.cInvU, false, true); // [BN, J]
    return flat.sub(tf.matMul(coefficients, basis.u)).reshape([b, n, d]) as tf.Tensor3D;
  });
}

/**
 * W' e = W e⊥ + Σ_c σ_c o_c for one projection: `linear` applies W ([B, N, D] → [B, N, inner]),
 * `gates` are the σ_c [B, N] and `targets` the o_c [inner], one per concept.
 */
export function editedProjection(linear: (x: tf.Tensor3D) => tf.Tensor3D, ePerp: tf.Tensor3D, gates: readonly tf.Tensor2D[], targets: readonly tf.Tensor1D[]): tf.Tensor3D {
  return tf.tidy(() => {
    let out = linear(ePerp);
    gates.forEach((g, c) => {
      out = out.add(tf.mul(g.expandDims(2), targets[c].reshape([1, 1, -1]))) as tf.Tensor3D;
    });
    return out;
  });
}
