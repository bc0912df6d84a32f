/**
 * DreamBooth-LoRA with prior preservation on the tiny model: its options, the rare-token
 * identifier, the class images (drawn once by the frozen model, kept in the checkpoint, reused
 * on resume), the chunked loss, and a bit-exact resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { AdamW } from '../kernels/adamw';
import { restoreCheckpoint, type Checkpoint } from './checkpoint';
import { MemoryCheckpointStore } from './checkpoint-store';
import { frozenModelSampler, type ClassImageRequest, type ClassImageSampler } from './class-images';
import { readTrainerConfig, resolveTrainerConfig, type TrainerOptions } from './config';
import { Lora } from './lora';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from './loss';
import { pickRareToken, RARE_TOKEN_IDS, rareTokenCandidates } from './rare-token';
import { Trainer } from './trainer';

/** 64 px: 8×8 latents. */
const RES = 64;

let model: StableDiffusionModel;
let tokenizer: ClipTokenizer;
let frozen: Map<string, Uint8Array>;
let images: Float32Array;

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({
  method: 'dreambooth',
  token: '<my-dog>',
  classWord: 'dog',
  steps: 4,
  resolution: RES,
  rank: 2,
  seed: 42,
  classImages: 2,
  classImageSteps: 1,
  loraLearningRate: 1e-3,
  ...o,
});

/** The frozen model's sampler, counting its calls and checking that no adapter is on the model. */
function countingSampler(): { sampler: ClassImageSampler; calls: ClassImageRequest[]; adaptersSeen: number[] } {
  const real = frozenModelSampler(model, tokenizer);
  const calls: ClassImageRequest[] = [];
  const adaptersSeen: number[] = [];
  const sampler: ClassImageSampler = (request, signal) => {
    calls.push(request);
    adaptersSeen.push(model.unet.weights.adapterPrefixes().length + model.text.weights.adapterPrefixes().length);
    return real(request, signal);
  };
  return { sampler, calls, adaptersSeen };
}

async function expectFrozen(): Promise<void> {
  expect(await changedWeights(model, frozen)).toEqual([]);
  expect(model.unet.weights.adapterPrefixes()).toEqual([]);
  expect(model.text.weights.adapterPrefixes()).toEqual([]);
}

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
  frozen = await snapshotWeights(model);
  images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
});

afterAll(() => model?.dispose());

describe('DreamBooth options', () => {
  it("defaults to 50 class images, λ = 1, the concept's own token and 25 DDIM steps; refuses bad values by name", () => {
    const c = resolveTrainerConfig({ method: 'dreambooth', token: '<x>', classWord: 'dog', steps: 10, resolution: 512 });
    expect(c).toMatchObject({ classImages: 50, priorLossWeight: 1, identifier: 'added', classImageSteps: 25, maxGradNorm: 1, targets: ['to_k', 'to_v'], rank: 4 });
    expect(() => resolveTrainerConfig({ ...c, classImages: 0 })).toThrow(/^training option classImages = 0 must be a positive integer/);
    expect(() => resolveTrainerConfig({ ...c, priorLossWeight: -1 })).toThrow(/^training option priorLossWeight = -1 must be a number ≥ 0/);
    expect(() => resolveTrainerConfig({ ...c, identifier: 'sks' as never })).toThrow(/^training option identifier = "sks" must be one of added, rare/);
    expect(() => resolveTrainerConfig({ ...c, method: 'lora', identifier: 'rare' })).toThrow(/^training option identifier = "rare" must be 'added' unless the method is 'dreambooth'/);
    expect(resolveTrainerConfig({ ...c, priorLossWeight: 0 }).priorLossWeight).toBe(0);
  });

  it('a checkpoint config from before DreamBooth reads back with its settings at their defaults', () => {
    const { classImages: _a, priorLossWeight: _b, identifier: _c, classImageSteps: _d, ...old } = resolveTrainerConfig({ method: 'lora', token: '<x>', classWord: 'dog', steps: 10, resolution: 64 });
    expect(() => readTrainerConfig(old)).toThrow(/classImages is missing/);
    const raw = { version: 1, model: 'tiny', config: old, step: 0, rngState: 1, smoothedLoss: null, tensors: [], moments: [], created: 0 };
    expect(restoreCheckpoint(raw).config).toMatchObject({ classImages: 50, priorLossWeight: 1, identifier: 'added', classImageSteps: 25 });
    expect(restoreCheckpoint(raw).classLatents).toBeUndefined();
  });

  it('stored class latents read back checked: means and stds of one [n, 4, h, w] shape', () => {
    const config = resolveTrainerConfig(options());
    const t = (key: string, shape: number[]) => ({ key, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const raw = (classLatents: unknown) => ({ version: 1, model: 'tiny', config, step: 0, rngState: 1, smoothedLoss: null, tensors: [], moments: [], created: 0, classLatents });
    expect(restoreCheckpoint(raw({ mean: t('class.mean', [2, 4, 8, 8]), std: t('class.std', [2, 4, 8, 8]) })).classLatents?.mean.shape).toEqual([2, 4, 8, 8]);
    expect(() => restoreCheckpoint(raw({ mean: t('class.mean', [2, 4, 8, 8]), std: t('class.std', [1, 4, 8, 8]) }))).toThrow(expect.objectContaining({ name: 'CheckpointUnreadable' }));
    expect(() => restoreCheckpoint(raw({ mean: t('class.mean', [2, 4, 8, 8]) }))).toThrow(expect.objectContaining({ name: 'CheckpointUnreadable' }));
  });
});

describe('rare-token identifier', () => {
  it("draws a 1–3 letter whole word from ids 5000–10000 of the vocabulary by the seed, read back as one token; not a taken one", () => {
    const candidates = rareTokenCandidates(tokenizer);
    expect(candidates.length).toBeGreaterThan(100);
    for (const w of candidates) {
      expect(w).toMatch(/^[a-z]{1,3}$/);
      const id = tokenizer.tokenId(`${w}</w>`)!;
      expect(id).toBeGreaterThanOrEqual(RARE_TOKEN_IDS[0]);
      expect(id).toBeLessThan(RARE_TOKEN_IDS[1]);
      expect(tokenizer.tokenize(w)).toEqual([id]);
    }
    const word = pickRareToken(tokenizer, 42);
    expect(pickRareToken(tokenizer, 42)).toBe(word);
    expect(candidates).toContain(word);
    expect(new Set([0, 1, 2, 3, 4, 5, 6, 7].map((s) => pickRareToken(tokenizer, s))).size).toBeGreaterThan(1);
    expect(pickRareToken(tokenizer, 42, [word.toUpperCase()])).not.toBe(word);
  });
});

describe('prior-preservation loss', () => {
  /** [instance; class] batch of 8×8 latents, timesteps 300 and 600. */
  function priorBatch(): TrainingBatch {
    const shape: [number, number, number, number] = [2, 4, 8, 8];
    const ids = ['a <my-dog> dog', 'a dog'].map((p) => tokenizer.encode(p).ids);
    return {
      latents: tf.tensor4d(randomNormal(2 * 256, 1), shape),
      noise: tf.tensor4d(randomNormal(2 * 256, 2), shape),
      timesteps: [300, 600],
      inputIds: tf.tensor2d(ids, [2, ids[0].length], 'int32'),
    };
  }

  it('is MSE(instance half) + λ · MSE(class half); an odd batch is refused', async () => {
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const b = priorBatch();
    const parts = diffusionLoss(model, scheduler, b, { priorLossWeight: 0.5 });
    const [pred, noise] = [await parts.modelPred.data(), await b.noise.data()];
    const mse = (from: number, to: number) => {
      let s = 0;
      for (let i = from; i < to; i++) s += (pred[i] - noise[i]) ** 2;
      return s / (to - from);
    };
    const [instance, prior, loss] = [(await parts.instanceLoss!.data())[0], (await parts.priorLoss!.data())[0], (await parts.loss.data())[0]];
    expect(instance).toBeCloseTo(mse(0, 256), 5);
    expect(prior).toBeCloseTo(mse(256, 512), 5);
    expect(loss).toBeCloseTo(instance + 0.5 * prior, 6);
    tf.dispose(Object.values(parts));
    const odd = { ...b, latents: b.latents.slice(0, 1), noise: b.noise.slice(0, 1), inputIds: b.inputIds.slice(0, 1), timesteps: [300] };
    expect(() => diffusionLoss(model, scheduler, odd, { priorLossWeight: 1 })).toThrow(/prior preservation needs an even batch, got 1/);
    tf.dispose([odd.latents, odd.noise, odd.inputIds, b.latents, b.noise, b.inputIds]);
  });

  it('ten AdamW steps on a fixed batch lower it every step; frozen weights unchanged; no leak', async () => {
    const baseline = tf.memory().numTensors;
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const lora = Lora.create(model.unet.weights, model.unet.config, { rank: 4, seed: 7 });
    const optimizer = new AdamW(lora.variables(), { learningRate: 1e-2, weightDecay: 0 });
    const b = priorBatch();
    const losses: number[] = [];
    const live: number[] = [];
    for (let step = 0; step < 10; step++) {
      const { loss, grads } = lossAndGrads(model, scheduler, b, lora.variables(), { priorLossWeight: 1 });
      optimizer.apply(grads);
      losses.push((await loss.data())[0]);
      tf.dispose([loss, ...grads]);
      live.push(tf.memory().numTensors);
    }
    const last = diffusionLoss(model, scheduler, b, { priorLossWeight: 1 });
    losses.push((await last.loss.data())[0]);
    tf.dispose(Object.values(last));
    for (let i = 1; i <= 10; i++) expect(losses[i], `loss after step ${i}`).toBeLessThan(losses[i - 1]);
    expect(live.slice(1)).toEqual(live.slice(1).map(() => live[1]));
    optimizer.dispose();
    lora.dispose();
    tf.dispose([b.latents, b.noise, b.inputIds]);
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });
});

describe('DreamBooth trainer', () => {
  it('draws the class images first with the frozen model, reports them as their own phase, trains on both halves, leaks nothing', async () => {
    const baseline = tf.memory().numTensors;
    const { sampler, calls, adaptersSeen } = countingSampler();
    const trainer = Trainer.create(model, options({ steps: 2 }), images, { sampleClassImage: sampler });
    expect(trainer.placeholder).toBe('<my-dog> dog');
    expect(trainer.classImagesReady).toBe(false);
    await expect(trainer.step()).rejects.toThrow(/0 of 2 class images drawn/);
    const events: string[] = [];
    const outcome = await trainer.run({ onClassImages: (done, total) => events.push(`class ${done}/${total}`), onProgress: (p) => events.push(`step ${p.step}`) });
    expect(outcome).toBe('done');
    expect(events).toEqual(['class 1/2', 'class 2/2', 'step 1', 'step 2']);
    expect(calls).toEqual([
      { prompt: 'a dog', seed: 42, steps: 1, size: RES },
      { prompt: 'a dog', seed: 43, steps: 1, size: RES },
    ]);
    // the LoRA (attached while training) was off the model for each class image
    expect(adaptersSeen).toEqual([0, 0]);
    const saved = await trainer.checkpoint();
    expect(saved.classLatents?.mean.shape).toEqual([2, 4, 8, 8]);
    expect(saved.tensors.every((t) => t.key.startsWith('unet.'))).toBe(true);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });

  it('resumes bit-exact from a stored checkpoint without drawing the class images again; a pause while drawing keeps those drawn', async () => {
    const config = options({ steps: 3, identifier: 'rare' });
    const straightSampler = countingSampler();
    const straight = Trainer.create(model, config, images, { sampleClassImage: straightSampler.sampler });
    const expected: number[] = [];
    await straight.run({ onProgress: (p) => expected.push(p.loss) });
    const end = await straight.checkpoint();
    straight.dispose();
    // the rare word is the run's token, chosen from the vocabulary by the seed
    const word = pickRareToken(tokenizer, 42);
    expect(end.config.token).toBe(word);
    expect(end.config.identifier).toBe('rare');

    // pause after the first class image, then after a step, each time through the store
    const store = new MemoryCheckpointStore();
    const save = { save: (c: Checkpoint) => store.put('run', c) };
    const first = countingSampler();
    const a = Trainer.create(model, config, images, { sampleClassImage: first.sampler });
    expect(await a.run({ checkpoints: save, shouldPause: () => a.classImageCount === 1 })).toBe('paused');
    a.dispose();
    expect(first.calls.map((c) => c.seed)).toEqual([42]);
    expect((await store.get('run'))!.classLatents?.mean.shape).toEqual([1, 4, 8, 8]);

    const second = countingSampler();
    const b = Trainer.resume(model, (await store.get('run'))!, images, { sampleClassImage: second.sampler });
    const losses: number[] = [];
    expect(await b.run({ checkpoints: save, shouldPause: () => b.stepsDone === 1, onProgress: (p) => losses.push(p.loss) })).toBe('paused');
    b.dispose();
    expect(second.calls.map((c) => c.seed)).toEqual([43]);

    const third = countingSampler();
    const c = Trainer.resume(model, (await store.get('run'))!, images, { sampleClassImage: third.sampler });
    expect(c.stepsDone).toBe(1);
    expect(c.config.token).toBe(word);
    expect(await c.run({ onProgress: (p) => losses.push(p.loss) })).toBe('done');
    const resumed = await c.checkpoint();
    c.dispose();
    expect(third.calls).toEqual([]);

    expect(losses).toEqual(expected);
    expect(resumed.classLatents).toEqual(end.classLatents);
    expect(resumed.tensors).toEqual(end.tensors);
    expect(resumed.moments).toEqual(end.moments);
    expect(resumed.rngState).toBe(end.rngState);
    await expectFrozen();
  });
});
