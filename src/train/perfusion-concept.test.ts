/**
 * A Perfusion concept trains: ten AdamW steps on the golden's fixed batch lower the loss every
 * step, the running inputs move by the EMA rule, every frozen weight stays bit-identical and
 * nothing leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { AdamW } from '../kernels/adamw';
import { clipTextEncoder } from '../model/clip';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { nodeFolderSource } from '../model/sources/node-folder';
import { expectClose } from '../test/compare';
import { goldenMethods, goldenMethodsTolerance, readFixtureJson } from '../test/golden';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { lossAndGrads } from './loss';
import { encodingAt, INPUT_EMA, PerfusionConcept } from './perfusion-concept';
import { TextualInversion } from './textual-inversion';
import { methodsF32 as f32 } from '../test/methods-golden';

const TOKEN = readFixtureJson<{ perfusion: { concept_token_id: number } }>('tiny-sd-golden-methods/golden.json').perfusion.concept_token_id;
const ids2d = (name: string) => {
  const g = goldenMethods(name);
  const flat = g.data as number[];
  return Array.from({ length: g.shape[0] }, (_, b) => flat.slice(b * g.shape[1], (b + 1) * g.shape[1]));
};

let model: StableDiffusionModel;
let scheduler: DdpmScheduler;

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
});

afterAll(() => model?.dispose());

/** i* and i_super of this batch with the current embedding row (frozen encoder, no gradient). */
async function encodings(ti: TextualInversion, rows: number[][], superRows: number[][]) {
  const states = (r: number[][], embed?: TextualInversion) =>
    tf.tidy(() => clipTextEncoder(model.text.weights, model.text.config, tf.tensor2d(r, undefined, 'int32'), { embedTokens: embed?.embedTokens }).lastHiddenState);
  const [c, s] = [states(rows, ti), states(superRows)];
  const out = { iStar: await encodingAt(c, rows, TOKEN), iSuper: await encodingAt(s, rows, TOKEN) };
  tf.dispose([c, s]);
  return out;
}

describe('a Perfusion concept in training', () => {
  it('reads i* and i_super at the concept token as the golden does', async () => {
    const ti = TextualInversion.create(model.text.weights, { numVectors: 1, values: f32('perfusion.embedding_row'), tokenIds: [TOKEN] });
    const e = await encodings(ti, ids2d('perfusion.input_ids'), ids2d('perfusion.superclass_input_ids'));
    expectClose(e.iStar, goldenMethods('perfusion.i_star').data, goldenMethodsTolerance('perfusion.i_star'), 'i*');
    expectClose(e.iSuper, goldenMethods('perfusion.i_super').data, goldenMethodsTolerance('perfusion.i_super'), 'i_super');
    ti.dispose();
  });

  it('ten steps (checkpointing every other) lower the loss each step, the inputs follow the EMA, frozen weights stay and nothing leaks', async () => {
    const frozen = await snapshotWeights(model);
    // one prompt, 16×16 latents: small enough for software WebGPU
    const rows = ids2d('perfusion.input_ids').slice(0, 1);
    const superRows = ids2d('perfusion.superclass_input_ids').slice(0, 1);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 1, values: f32('perfusion.embedding_row'), tokenIds: [TOKEN] });
    const first = await encodings(ti, rows, superRows);
    const cInv = f32('perfusion.C_inv');
    const concept = PerfusionConcept.create(model.unet, cInv, first);
    expect(concept.variables).toHaveLength(16);
    const vStart = await concept.variables[0].data();
    const batch = {
      latents: tf.tensor4d(f32('perfusion.z0').slice(0, 1024), [1, 4, 16, 16]),
      noise: tf.tensor4d(f32('perfusion.noise').slice(0, 1024), [1, 4, 16, 16]),
      timesteps: [500],
      inputIds: tf.tensor2d(rows, undefined, 'int32'),
    };
    const optimizer = new AdamW([ti.vectors, ...concept.variables], { learningRate: 1e-3, weightDecay: 0 });
    const losses: number[] = [];
    const live: number[] = [];
    let expected = first.iStar;
    for (let step = 0; step < 10; step++) {
      const seen = await encodings(ti, rows, superRows);
      concept.observe(seen);
      expected = expected.map((x, i) => INPUT_EMA * x + (1 - INPUT_EMA) * seen.iStar[i]);
      const { loss, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors, ...concept.variables], { embedTokens: ti.embedTokens, crossAttention: concept.hooks(), checkpointing: step % 2 === 1 });
      optimizer.apply(grads);
      losses.push((await loss.data())[0]);
      tf.dispose([loss, ...grads]);
      live.push(tf.memory().numTensors);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < losses.length; i++) expect(losses[i], `loss at step ${i + 1}`).toBeLessThan(losses[i - 1]);
    expect(live.slice(1)).toEqual(live.slice(1).map(() => live[1]));
    expectClose(concept.currentEncodings.iStar, expected, 1e-6, 'running i*');
    expect(Array.from(await concept.variables[0].data())).not.toEqual(Array.from(vStart));
    optimizer.dispose();
    concept.dispose();
    ti.dispose();
    tf.dispose([batch.latents, batch.noise, batch.inputIds]);
    expect(await changedWeights(model, frozen)).toEqual([]);
  });
});
