import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomNormal } from '../common/random';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { MemoryCheckpointStore } from './checkpoint-store';
import { resolveTrainerConfig, tenthOfRates, type TrainerOptions } from './config';
import { trainerOptionProblems } from './option-limits';
import { Trainer } from './trainer';

const RES = 64;
let model: StableDiffusionModel;
let images: Float32Array;

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({ method: 'pplus', token: '<my-toy>', classWord: 'toy', steps: 4, resolution: RES, seed: 3, ...o });

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
});

afterAll(() => model?.dispose());

describe("method 'pplus' options", () => {
  it("takes TI's settings: its rate only, no clipping, one vector per layer; a LoRA option or more vectors are refused", () => {
    const c = resolveTrainerConfig(options());
    expect(c).toMatchObject({ method: 'pplus', numVectors: 1, tiLearningRate: 5e-3, maxGradNorm: null, textEncoderLora: false });
    expect(tenthOfRates(c)).toEqual({ tiLearningRate: 5e-4 });
    expect(() => resolveTrainerConfig(options({ textEncoderLora: true }))).toThrow(/textEncoderLora = true must be false with method 'pplus'/);
    expect(() => resolveTrainerConfig(options({ numVectors: 2 }))).toThrow(/numVectors = 2 must be 1 with method 'pplus'/);
    expect(trainerOptionProblems(options({ rank: 0, numVectors: 99 }))).toEqual([]);
  });
});

describe('P+ trainer on the tiny model', () => {
  it('one vector per cross-attention layer, all from the class word; TI rate only; previews run per layer', async () => {
    const trainer = Trainer.create(model, options(), images);
    expect(trainer.tokenIds).toEqual(Array.from({ length: 16 }, (_, l) => model.text.config.vocabSize + l));
    expect(trainer.ti!.vectors.shape).toEqual([16, model.text.config.hiddenSize]);
    const rows = (await trainer.ti!.vectors.array()) as number[][];
    expect(new Set(rows.map((r) => r.join(','))).size).toBe(1);
    expect(trainer.placeholder).toBe('<my-toy>');
    expect(trainer.learningRates()).toEqual({ ti: 5e-3 });
    const { loss } = await trainer.step();
    expect(Number.isFinite(loss)).toBe(true);
    const { prompt, image } = await trainer.sample({ steps: 1 });
    expect(prompt).toBe('a photo of a <my-toy>');
    expect(image.width).toBe(RES);
    trainer.dispose();
  });

  it('resumes from a stored checkpoint bit-exactly (losses, vectors, moments), with activation checkpointing, frozen weights untouched', async () => {
    const frozen = await snapshotWeights(model);
    const config = options({ gradientCheckpointing: true, warmupSteps: 2 });
    const straight = Trainer.create(model, config, images);
    const expected: number[] = [];
    for (let i = 0; i < 4; i++) expected.push((await straight.step()).loss);
    const end = await straight.checkpoint();
    straight.dispose();

    const first = Trainer.create(model, config, images);
    const losses: number[] = [];
    expect(await first.run({ shouldPause: () => first.stepsDone >= 2, onProgress: (p) => losses.push(p.loss) })).toBe('paused');
    const store = new MemoryCheckpointStore();
    await store.put('run', await first.checkpoint());
    first.dispose();
    const resumed = Trainer.resume(model, (await store.get('run'))!, images);
    expect(resumed.stepsDone).toBe(2);
    expect(await resumed.run({ onProgress: (p) => losses.push(p.loss) })).toBe('done');
    const again = await resumed.checkpoint();
    resumed.dispose();

    expect(losses).toEqual(expected);
    expect(again.tensors.map((t) => [t.key, t.shape])).toEqual([['ti.vectors', [16, model.text.config.hiddenSize]]]);
    expect(again.tensors).toEqual(end.tensors);
    expect(again.moments).toEqual(end.moments);
    expect(await changedWeights(model, frozen)).toEqual([]);
    expect(model.unet.weights.adapterPrefixes()).toEqual([]);
  });
});
