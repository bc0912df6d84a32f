/**
 * Perfusion on the whole UNet against the methods golden (tiny-sd, 32×32 latents, t = 500): every
 * attn2's K and V edited, training and inference gates, the gradients of the concept's embedding
 * row and of every layer's v* (with and without activation checkpointing), and two concepts at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { clipTextEncoder } from '../model/clip';
import { crossAttentionLayerList } from '../model/cross-attention';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { nodeFolderSource } from '../model/sources/node-folder';
import { unetForward } from '../model/unet';
import { goldenMethods, goldenMethodsTolerance, readFixtureJson } from '../test/golden';
import { TINY_SD } from '../test/model-fixtures';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from './loss';
import { perfusionHooks, type PerfusionTargets } from './perfusion-hooks';
import { disposeEditInputs, editInputs } from './perfusion-inputs';
import { INFERENCE_GATE, TRAINING_GATE, type Gate } from './rank-one-edit';
import { TextualInversion } from './textual-inversion';
import { expectMethodsGolden, methodsF32 as f32 } from '../test/methods-golden';

const J = readFixtureJson<{ perfusion: { concept_token_id: number; second_concept_token_id: number; train_loss: number } }>('tiny-sd-golden-methods/golden.json').perfusion;

let model: StableDiffusionModel;
let scheduler: DdpmScheduler;
let paths: string[];
let channels: Map<string, number>;

const t4 = (name: string) => tf.tensor4d(f32(name), goldenMethods(name).shape as [number, number, number, number]);
const ids = (name: string) => tf.tensor2d(goldenMethods(name).data as number[], goldenMethods(name).shape as [number, number], 'int32');

/** o_K = W_k i_super at every layer, and v* (variables: trainable) from the golden's inputs. */
function targets(iSuper: string, vStar: (path: string) => string, gate: Gate): PerfusionTargets & { variables: tf.Variable[] } {
  const superclass = tf.tensor3d(f32(iSuper), [1, 1, goldenMethods(iSuper).shape[0]]);
  const keys = new Map(paths.map((p) => [p, tf.tidy(() => model.unet.weights.linear(`${p}.to_k`, superclass, channels.get(p)!).reshape([-1]) as tf.Tensor1D)]));
  superclass.dispose();
  const values = new Map(paths.map((p) => [p, variable(f32(vStar(p)))]));
  return { keys, values, gate, variables: [...values.values()] };
}

function variable(values: Float32Array): tf.Variable<tf.Rank.R1> {
  const init = tf.tensor1d(values);
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

function disposeTargets(t: PerfusionTargets): void {
  tf.dispose([...t.keys.values(), ...t.values.values()]);
}

function batch(): TrainingBatch {
  return { latents: t4('perfusion.z0'), noise: t4('perfusion.noise'), timesteps: goldenMethods('perfusion.timesteps').data as number[], inputIds: ids('perfusion.input_ids') };
}

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
  const layers = crossAttentionLayerList(model.unet.config);
  paths = layers.map((l) => l.path);
  channels = new Map(layers.map((l) => [l.path, l.channels]));
});

afterAll(() => model?.dispose());

describe('Perfusion on every attn2 of tiny-sd', () => {
  it('the locked key targets are W_k i_super at all 16 layers', async () => {
    const t = targets('perfusion.i_super', (p) => `perfusion.v_star.${p}`, TRAINING_GATE);
    for (const p of paths) await expectMethodsGolden(t.keys.get(p)!, `perfusion.k_target.${p}`);
    disposeTargets(t);
  });

  it('training: prediction, loss, and the gradients of the embedding row and every v* match, with and without checkpointing', async () => {
    const before = tf.memory().numTensors;
    const ti = TextualInversion.create(model.text.weights, { numVectors: 1, values: f32('perfusion.embedding_row'), tokenIds: [J.concept_token_id] });
    const inputs = editInputs(f32('perfusion.C_inv'), [f32('perfusion.i_star')]);
    const t = targets('perfusion.i_super', (p) => `perfusion.v_star.${p}`, TRAINING_GATE);
    const b = batch();
    const options = { embedTokens: ti.embedTokens, crossAttention: perfusionHooks(inputs, [t]) };
    const parts = diffusionLoss(model, scheduler, b, options);
    await expectMethodsGolden(parts.encoderHiddenStates, 'perfusion.encoder_hidden_states');
    await expectMethodsGolden(parts.modelPred, 'perfusion.train.model_pred');
    const loss = (await parts.loss.data())[0];
    expect(Math.abs(loss - J.train_loss) / J.train_loss).toBeLessThanOrEqual(goldenMethodsTolerance('perfusion.train.loss'));
    tf.dispose(Object.values(parts));
    for (const checkpointing of [false, true]) {
      const { loss: l, grads } = lossAndGrads(model, scheduler, b, [ti.vectors, ...t.variables], { ...options, checkpointing });
      const [row, ...vStars] = grads;
      const flat = row.reshape([-1]);
      await expectMethodsGolden(flat, 'perfusion.train.grad_embedding_row');
      flat.dispose();
      for (const [i, p] of paths.entries()) await expectMethodsGolden(vStars[i], `perfusion.train.grad_v_star.${p}`);
      tf.dispose([l, ...grads]);
    }
    tf.dispose([b.latents, b.noise, b.inputIds]);
    disposeTargets(t);
    disposeEditInputs(inputs);
    ti.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('inference: the inference gate gives the golden prediction; no edit gives the plain UNet', async () => {
    const before = tf.memory().numTensors;
    const inputs = editInputs(f32('perfusion.C_inv'), [f32('perfusion.i_star')]);
    const t = targets('perfusion.i_super', (p) => `perfusion.v_star.${p}`, INFERENCE_GATE);
    const sample = t4('perfusion.noisy_latents');
    const states = tf.tensor3d(f32('perfusion.encoder_hidden_states'), [2, 77, 32]);
    const run = (edit: boolean) =>
      tf.tidy(() => unetForward(model.unet.weights, model.unet.config, { sample, timesteps: [500, 500], encoderHiddenStates: states, ...(edit && { crossAttention: perfusionHooks(inputs, [t]) }) }));
    const edited = run(true);
    const plain = run(false);
    await expectMethodsGolden(edited, 'perfusion.infer.model_pred');
    await expectMethodsGolden(plain, 'perfusion.unedited.model_pred');
    tf.dispose([edited, plain, sample, states]);
    disposeTargets(t);
    disposeEditInputs(inputs);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('two concepts in one prompt: their text states and the combined edit give the golden prediction', async () => {
    const before = tf.memory().numTensors;
    const rows = Float32Array.from([...f32('perfusion.embedding_row'), ...f32('perfusion.multi.embedding_row_2')]);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 2, values: rows, tokenIds: [J.concept_token_id, J.second_concept_token_id] });
    const inputs = editInputs(f32('perfusion.C_inv'), [f32('perfusion.i_star'), f32('perfusion.multi.i_star_2')]);
    const first = targets('perfusion.i_super', (p) => `perfusion.v_star.${p}`, INFERENCE_GATE);
    const second = targets('perfusion.multi.i_super_2', (p) => `perfusion.multi.v_star_2.${p}`, INFERENCE_GATE);
    const promptIds = ids('perfusion.multi.input_ids');
    const sample = tf.tidy(() => t4('perfusion.noisy_latents').slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D);
    const out = tf.tidy(() => {
      const states = clipTextEncoder(model.text.weights, model.text.config, promptIds, { embedTokens: ti.embedTokens }).lastHiddenState;
      return [states, unetForward(model.unet.weights, model.unet.config, { sample, timesteps: [500], encoderHiddenStates: states, crossAttention: perfusionHooks(inputs, [first, second]) })];
    });
    await expectMethodsGolden(out[0], 'perfusion.multi.encoder_hidden_states');
    await expectMethodsGolden(out[1], 'perfusion.multi.model_pred');
    tf.dispose([...out, sample, promptIds]);
    [first, second].forEach(disposeTargets);
    disposeEditInputs(inputs);
    ti.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
