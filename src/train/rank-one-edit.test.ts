/**
 * Perfusion's pieces against the methods golden (ChenDarYen / lucidrains reference code on
 * tiny-sd): the covariance of the shipped prompts, its float64 inverse, the gates, the edited K
 * and V of one attn2 layer with one concept and with two, and the C⁻¹-orthonormal basis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { nodeFolderSource } from '../model/sources/node-folder';
import { ClipTokenizer } from '../model/tokenizer';
import { expectClose, relativeError } from '../test/compare';
import { goldenMethods as methodsGolden, goldenMethodsTolerance as methodsTolerance, readFixtureJson } from '../test/golden';
import { symmetricPositiveInverse } from './float64-matrix';
import { COVARIANCE_PROMPTS } from './perfusion-covariance-prompts';
import { covarianceInverse, textCovariance } from './perfusion-covariance';
import { disposeEditInputs, editInputs } from './perfusion-inputs';
import { conceptSimilarity, editedProjection, gateOf, INFERENCE_GATE, projectOut, TRAINING_GATE } from './rank-one-edit';
import { expectMethodsGolden, methodsF32 as f32 } from '../test/methods-golden';

const FIXTURE = new URL('../test/fixtures/tiny-sd', import.meta.url).pathname;
const LAYER = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2';

let model: StableDiffusionModel;

const g = (name: string) => methodsGolden(name);
const tensor3d = (name: string) => tf.tensor3d(f32(name), g(name).shape as [number, number, number]);

const linear = (which: 'to_k' | 'to_v') => (x: tf.Tensor3D) => model.unet.weights.linear(`${LAYER}.${which}`, x, x.shape[2]) as tf.Tensor3D;

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(FIXTURE));
});

afterAll(() => model.dispose());

describe('the covariance C', () => {
  it('of the shipped prompts is the golden C, and its float64 inverse the golden C⁻¹', async () => {
    expect(COVARIANCE_PROMPTS).toEqual(readFixtureJson<{ perfusion: { covariance_prompts: string[] } }>('tiny-sd-golden-methods/golden.json').perfusion.covariance_prompts);
    const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
    const before = tf.memory().numTensors;
    const c = await textCovariance(model, tokenizer, COVARIANCE_PROMPTS);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(c, g('perfusion.C').data, methodsTolerance('perfusion.C'), 'C');
    expectClose(c, g('perfusion.C_f64').data, methodsTolerance('perfusion.C_f64'), 'C (float64)');
    // The same float64 matrix inverted twice agrees far beyond float32 (condition number 1.5e7).
    const d = model.text.config.hiddenSize;
    expect(relativeError(symmetricPositiveInverse(Float64Array.from(g('perfusion.C_f64').data), d), g('perfusion.C_inv_f64').data)).toBeLessThan(1e-6);
    // The inverse is one: to 1e-10 on the golden's C (numpy's own check: 3e-10), looser on ours, whose
    // float32 encodings leave it even closer to singular; the edit reads its float32 cast.
    const residual = (m: Float64Array) => {
      const inv = symmetricPositiveInverse(m, d);
      let worst = 0;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += m[i * d + k] * inv[k * d + j];
          worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        }
      }
      return worst;
    };
    expect(residual(Float64Array.from(g('perfusion.C_f64').data))).toBeLessThan(1e-8);
    expect(residual(c)).toBeLessThan(1e-3);
    const inv = symmetricPositiveInverse(c, d);
    expect(Array.from(covarianceInverse(c))).toEqual(Array.from(Float32Array.from(inv)));
  });
});

describe('one concept at one attn2 layer', () => {
  it('i* is the batch mean at the concept positions, o_k = W_k i_super', async () => {
    const indices = g('perfusion.concept_indices').data as number[];
    const e = tensor3d('perfusion.encoder_hidden_states');
    const s = tensor3d('perfusion.superclass_encoder_hidden_states');
    const at = (x: tf.Tensor3D) => tf.tidy(() => tf.stack(indices.map((n, b) => x.slice([b, n, 0], [1, 1, -1]).reshape([-1]))).mean(0));
    const iStar = at(e);
    const iSuper = at(s);
    await expectMethodsGolden(iStar, 'perfusion.i_star');
    await expectMethodsGolden(iSuper, 'perfusion.i_super');
    const oK = tf.tidy(() => linear('to_k')(iSuper.reshape([1, 1, -1])).reshape([-1]));
    await expectMethodsGolden(oK, `perfusion.k_target.${LAYER}`);
    tf.dispose([e, s, iStar, iSuper, oK]);
  });

  it('sim, the training and inference gates, and the edited K and V equal the golden', async () => {
    const before = tf.memory().numTensors;
    const inputs = editInputs(f32('perfusion.C_inv'), [f32('perfusion.i_star')]);
    expectClose([inputs.concepts[0].energy], g('perfusion.energy').data, methodsTolerance('perfusion.energy'), 'energy');
    const e = tensor3d('perfusion.encoder_hidden_states');
    const oK = tf.tensor1d(f32(`perfusion.k_target.${LAYER}`));
    const vStar = tf.tensor1d(f32(`perfusion.v_star.${LAYER}`));
    const sim = conceptSimilarity(e, inputs.concepts[0]);
    const simRaw = sim.mul(inputs.concepts[0].energy);
    await expectMethodsGolden(simRaw, 'perfusion.layer.sim_raw');
    await expectMethodsGolden(sim, 'perfusion.layer.sim');
    const ePerp = projectOut(e, inputs.basis);
    for (const [gate, mode] of [[TRAINING_GATE, 'train'], [INFERENCE_GATE, 'infer']] as const) {
      const sigma = gateOf(sim, gate);
      await expectMethodsGolden(sigma, mode === 'train' ? 'perfusion.layer.sigma_train' : 'perfusion.layer.sigma_infer');
      const k = editedProjection(linear('to_k'), ePerp, [sigma], [oK]);
      const v = editedProjection(linear('to_v'), ePerp, [sigma], [vStar]);
      await expectMethodsGolden(k, `perfusion.layer.K_${mode}`);
      await expectMethodsGolden(v, `perfusion.layer.V_${mode}`);
      tf.dispose([sigma, k, v]);
    }
    tf.dispose([e, oK, vStar, sim, simRaw, ePerp]);
    disposeEditInputs(inputs);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('two concepts at one attn2 layer', () => {
  it('the basis is C⁻¹-orthonormal and spans the golden basis; the combined K and V equal the golden', async () => {
    const before = tf.memory().numTensors;
    const inputs = editInputs(f32('perfusion.C_inv'), [f32('perfusion.i_star'), f32('perfusion.multi.i_star_2')]);
    // Gram–Schmidt and ChenDarYen's Cholesky + QR agree up to the sign of each row.
    const ours = await inputs.basis.u.array();
    const theirs = g('perfusion.multi.basis');
    const d = theirs.shape[1];
    ours.forEach((row, j) => {
      const ref = Array.from(theirs.data.slice(j * d, (j + 1) * d));
      const sign = Math.sign(row.reduce((s, x, i) => s + x * ref[i], 0));
      expectClose(row.map((x) => sign * x), ref, methodsTolerance('perfusion.multi.basis'), `basis row ${j}`);
    });
    const e = tensor3d('perfusion.multi.encoder_hidden_states');
    const sims = inputs.concepts.map((c) => conceptSimilarity(e, c));
    const sim = tf.stack(sims);
    await expectMethodsGolden(sim, 'perfusion.multi.layer.sim');
    const gates = sims.map((s) => gateOf(s, INFERENCE_GATE));
    const sigma = tf.stack(gates);
    await expectMethodsGolden(sigma, 'perfusion.multi.layer.sigma');
    const ePerp = projectOut(e, inputs.basis);
    const keys = [tf.tensor1d(f32(`perfusion.k_target.${LAYER}`)), tf.tensor1d(f32(`perfusion.multi.k_target_2.${LAYER}`))];
    const values = [tf.tensor1d(f32(`perfusion.v_star.${LAYER}`)), tf.tensor1d(f32(`perfusion.multi.v_star_2.${LAYER}`))];
    const k = editedProjection(linear('to_k'), ePerp, gates, keys);
    const v = editedProjection(linear('to_v'), ePerp, gates, values);
    await expectMethodsGolden(k, 'perfusion.multi.layer.K');
    await expectMethodsGolden(v, 'perfusion.multi.layer.V');
    tf.dispose([e, ...sims, sim, ...gates, sigma, ePerp, ...keys, ...values, k, v]);
    disposeEditInputs(inputs);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a concept whose input lies in the span of the others is refused', () => {
    const iStar = f32('perfusion.i_star');
    expect(() => editInputs(f32('perfusion.C_inv'), [iStar, iStar.map((x) => 2 * x)])).toThrow(/span of the others/);
  });
});
