import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { crossAttentionLayerList } from '../model/cross-attention';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { methodsF32 } from '../test/methods-golden';
import { MemoryCheckpointStore } from './checkpoint-store';
import { resolveTrainerConfig, tenthOfRates, type TrainerOptions } from './config';
import { superclassRows } from './perfusion-training';
import { Trainer } from './trainer';

const RES = 64;
let model: StableDiffusionModel;
let images: Float32Array;
const covarianceInverse = methodsF32('perfusion.C_inv');

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({ method: 'perfusion', token: '<my-teddy>', classWord: 'teddy', steps: 4, resolution: RES, seed: 5, ...o });

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  images = randomNormal(2 * 3 * RES * RES, 7, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
});

afterAll(() => model?.dispose());

describe("method 'perfusion' options", () => {
  it("takes TI's settings: one vector, its rate, no clipping; a LoRA option or more vectors are refused", () => {
    const c = resolveTrainerConfig(options());
    expect(c).toMatchObject({ method: 'perfusion', numVectors: 1, tiLearningRate: 5e-3, maxGradNorm: null });
    expect(tenthOfRates(c)).toEqual({ tiLearningRate: 5e-4 });
    expect(() => resolveTrainerConfig(options({ numVectors: 2 }))).toThrow(/numVectors = 2 must be 1 with method 'perfusion'/);
    expect(() => resolveTrainerConfig(options({ textEncoderLora: true }))).toThrow(/textEncoderLora = true must be false with method 'perfusion'/);
  });

  it('superclass prompts put the class word where the token was, keeping the row length', () => {
    expect(superclassRows([[1, 7, 99, 8, 2, 2]], 99, [40])).toEqual([[1, 7, 40, 8, 2, 2]]);
    expect(superclassRows([[1, 99, 2, 2]], 99, [40, 41])).toEqual([[1, 40, 41, 2]]);
    expect(() => superclassRows([[1, 2]], 99, [40])).toThrow(/does not hold the concept's token/);
  });
});

describe('Perfusion trainer on the tiny model', () => {
  it("needs the model's C⁻¹", () => {
    expect(() => Trainer.create(model, options(), images)).toThrow(/Perfusion needs the model's C⁻¹/);
    expect(() => Trainer.create(model, options(), images, { covarianceInverse: new Float32Array(4) })).toThrow(/must be 32×32 finite values/);
  });

  it('the first step makes the edit (v* per attn2, TI rate); its edit holds locked keys W_k i_super and C⁻¹ i*; previews use it', async () => {
    const trainer = Trainer.create(model, options(), images, { covarianceInverse });
    expect(await trainer.perfusionEdit()).toBeNull();
    expect(trainer.learningRates()).toEqual({ ti: 5e-3 });
    const { loss } = await trainer.step();
    expect(Number.isFinite(loss)).toBe(true);
    const edit = (await trainer.perfusionEdit())!;
    const layers = crossAttentionLayerList(model.unet.config);
    expect(edit.layers).toEqual(layers.map((l) => l.path));
    expect(edit.widths).toEqual(layers.map((l) => l.channels));
    const total = layers.reduce((n, l) => n + l.channels, 0);
    expect([edit.keys.length, edit.values.length, edit.iStar.length, edit.cInvIStar.length]).toEqual([total, total, 32, 32]);
    expect([...edit.keys, ...edit.values, ...edit.iStar, ...edit.cInvIStar].every(Number.isFinite)).toBe(true);
    const { image } = await trainer.sample({ steps: 1 });
    expect(image.width).toBe(RES);
    trainer.dispose();
  });

  it('resumes from a stored checkpoint bit-exactly (losses, embedding, every v*, moments, running inputs), with activation checkpointing; frozen weights untouched, nothing leaks', async () => {
    const frozen = await snapshotWeights(model);
    const before = tf.memory().numTensors;
    const config = options({ gradientCheckpointing: true, warmupSteps: 2 });
    const straight = Trainer.create(model, config, images, { covarianceInverse });
    const expected: number[] = [];
    for (let i = 0; i < 4; i++) expected.push((await straight.step()).loss);
    const end = await straight.checkpoint();
    straight.dispose();

    const first = Trainer.create(model, config, images, { covarianceInverse });
    const losses: number[] = [];
    expect(await first.run({ shouldPause: () => first.stepsDone >= 2, onProgress: (p) => losses.push(p.loss) })).toBe('paused');
    const store = new MemoryCheckpointStore();
    await store.put('run', await first.checkpoint());
    first.dispose();
    const resumed = Trainer.resume(model, (await store.get('run'))!, images, { covarianceInverse });
    expect(resumed.stepsDone).toBe(2);
    expect(await resumed.run({ onProgress: (p) => losses.push(p.loss) })).toBe('done');
    const again = await resumed.checkpoint();
    resumed.dispose();

    expect(losses).toEqual(expected);
    expect(again.tensors.map((t) => t.key)).toEqual(['ti.vectors', ...crossAttentionLayerList(model.unet.config).map((l) => `perfusion.${l.path}.value`)]);
    expect(again.tensors).toEqual(end.tensors);
    expect(again.moments).toEqual(end.moments);
    expect(again.perfusion).toEqual(end.perfusion);
    expect(tf.memory().numTensors).toBe(before);
    expect(await changedWeights(model, frozen)).toEqual([]);
  });

  it('a first step that diverges is not applied: no edit is made, the run stays at step 0', async () => {
    const trainer = Trainer.create(model, options(), images.map((v, i) => (i === 0 ? NaN : v)), { covarianceInverse });
    await expect(trainer.step()).rejects.toThrow(/Training diverged at step 1/);
    expect(await trainer.perfusionEdit()).toBeNull();
    const now = await trainer.checkpoint();
    expect(now.step).toBe(0);
    expect(now.perfusion).toBeUndefined();
    expect(now.tensors.map((t) => t.key)).toEqual(['ti.vectors']);
    trainer.dispose();
  });
});
