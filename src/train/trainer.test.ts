import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { vaeEncode } from '../model/vae';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights } from '../test/model-fixtures';
import { indexedDbWithQuota } from '../test/quota-indexeddb';
import { randomNormal, SeededRng } from '../common/random';
import { StudioError } from '../common/errors';
import { restoreCheckpoint, type Checkpoint } from './checkpoint';
import { IndexedDbCheckpointStore, MemoryCheckpointStore } from './checkpoint-store';
import { OBJECT_TEMPLATES, STYLE_TEMPLATES, templatePrompt, templatesFor } from './templates';
import { resolveTrainerConfig, type TrainerOptions } from './config';
import type { TrainingPreview } from './previews';
import { Trainer } from './trainer';

const FIXTURE = new URL('../test/fixtures/tiny-sd', import.meta.url).pathname;
/** 64 px images: 8×8 latents (the fixture VAE downsamples 8×), 1×1 at the UNet's deepest level. */
const RES = 64;

let model: StableDiffusionModel;
let frozen: Map<string, Uint8Array>;
let images: Float32Array;

async function expectFrozen(): Promise<void> {
  expect(await changedWeights(model, frozen)).toEqual([]);
  expect(model.unet.weights.adapterPrefixes()).toEqual([]);
  expect(model.text.weights.adapterPrefixes()).toEqual([]);
}

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({
  method: 'both',
  token: '<my-cat>',
  classWord: 'cat',
  steps: 6,
  resolution: RES,
  rank: 2,
  seed: 42,
  ...o,
});

async function trainable(t: Trainer): Promise<Float32Array[]> {
  return (await t.checkpoint()).tensors.map((s) => s.data);
}

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(FIXTURE));
  frozen = await snapshotWeights(model);
  // two images in [-1, 1]
  images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
});

afterAll(() => model?.dispose());

describe('templates', () => {
  it("fills the concept's token into diffusers' object and style templates", () => {
    expect(OBJECT_TEMPLATES.length).toBe(27);
    expect(STYLE_TEMPLATES.length).toBe(19);
    expect(templatePrompt(templatesFor('object'), '<my-cat>', 0)).toBe('a photo of a <my-cat>');
    expect(templatePrompt(templatesFor('style'), '<my-style>', 0.999)).toBe('a large painting in the style of <my-style>');
    for (let i = 0; i < 40; i++) expect(templatePrompt(templatesFor(i % 2 ? 'style' : 'object'), '<t>', i / 40)).toMatch(/^[a-z -]+ <t>$/);
    expect(templatePrompt(templatesFor('object', ['an image of a {}', 'a {}']), '<t>', 0.6)).toBe('a <t>');
  });
});

describe('config and rng', () => {
  it('fills defaults and names a bad key', () => {
    const c = resolveTrainerConfig({ method: 'lora', token: '<x>', classWord: 'dog', steps: 10, resolution: 512 });
    expect(c).toMatchObject({ numVectors: 1, rank: 4, alpha: 4, targets: ['to_k', 'to_v'], tiLearningRate: 5e-3, loraLearningRate: 1e-4, batchSize: 1, kind: 'object' });
    expect(() => resolveTrainerConfig({ ...c, rank: 0 })).toThrow(/rank/);
    expect(() => resolveTrainerConfig({ ...c, resolution: 100 })).toThrow(/resolution/);
  });

  it('text-encoder LoRA: off by default, at half the LoRA rate unless given, refused for textual inversion alone', () => {
    const base = { method: 'lora', token: '<x>', classWord: 'dog', steps: 10, resolution: 512 } as const;
    expect(resolveTrainerConfig(base)).toMatchObject({ textEncoderLora: false, textEncoderLearningRate: 5e-5 });
    expect(resolveTrainerConfig({ ...base, textEncoderLora: true, loraLearningRate: 4e-4 })).toMatchObject({ textEncoderLora: true, textEncoderLearningRate: 2e-4 });
    expect(resolveTrainerConfig({ ...base, method: 'both', textEncoderLora: true, textEncoderLearningRate: 1e-5 }).textEncoderLearningRate).toBe(1e-5);
    expect(() => resolveTrainerConfig({ ...base, method: 'ti', textEncoderLora: true })).toThrow(/^training option textEncoderLora = true must be false with method 'ti'/);
    expect(resolveTrainerConfig({ ...base, method: 'ti' }).textEncoderLora).toBe(false);
    expect(() => resolveTrainerConfig({ ...base, textEncoderLora: 'yes' as never })).toThrow(/textEncoderLora/);
    expect(() => resolveTrainerConfig({ ...base, textEncoderLora: true, textEncoderLearningRate: 0 })).toThrow(/textEncoderLearningRate/);
  });

  it('refuses a token that is not one word of its own as TokenInvalid, naming the option', () => {
    const base = { method: 'ti', token: '<x>', classWord: 'dog', steps: 10, resolution: 512 } as const;
    const refusal = (token: string) => {
      try {
        resolveTrainerConfig({ ...base, token });
      } catch (e) {
        return `${(e as StudioError).name}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    expect(refusal('my cat')).toBe('TokenInvalid: training option token: "my cat" has a space in it: a token is one word.');
    expect(refusal(`<${'x'.repeat(63)}>`)).toMatch(/^TokenInvalid: training option token: .* is 65 characters long: at most 64\.$/);
    expect(refusal('<cat\u0007>')).toMatch(/control or invisible/);
    expect(refusal('<my-cat>')).toBe('accepted');
  });

  it('gradient clipping: max norm 1 when a LoRA is trained (as diffusers\' LoRA scripts), none for TI alone; a bad max is refused', () => {
    const base = { token: '<x>', classWord: 'dog', steps: 10, resolution: 512 } as const;
    expect(resolveTrainerConfig({ ...base, method: 'lora' }).maxGradNorm).toBe(1);
    expect(resolveTrainerConfig({ ...base, method: 'both' }).maxGradNorm).toBe(1);
    expect(resolveTrainerConfig({ ...base, method: 'ti' }).maxGradNorm).toBeNull();
    expect(resolveTrainerConfig({ ...base, method: 'lora', maxGradNorm: null }).maxGradNorm).toBeNull();
    expect(resolveTrainerConfig({ ...base, method: 'ti', maxGradNorm: 0.5 }).maxGradNorm).toBe(0.5);
    for (const bad of [0, -1, Infinity, NaN, '1']) expect(() => resolveTrainerConfig({ ...base, method: 'lora', maxGradNorm: bad as never })).toThrow(/^training option maxGradNorm = .* must be a positive number, or null/);
  });

  it('keeps a string of targets whole for the check to name, instead of splitting it into characters', () => {
    const base = { method: 'lora', token: '<x>', classWord: 'dog', steps: 10, resolution: 512 } as const;
    expect(() => resolveTrainerConfig({ ...base, targets: 'to_k' as never })).toThrow(/^training option targets = "to_k" must be some of/);
  });

  it('draws the same numbers as the studio rng and resumes from its state', () => {
    const a = new SeededRng(7);
    const first = a.normals(5);
    expect(first).toEqual(randomNormal(5, 7));
    const b = new SeededRng(a.state);
    expect(b.next()).toBe(a.next());
  });
});

describe('checkpoint store', () => {
  const checkpoint = (): Checkpoint => ({
    version: 1,
    model: 'm',
    config: resolveTrainerConfig(options()),
    step: 3,
    rngState: 123,
    smoothedLoss: 0.5,
    tensors: [{ key: 'ti.vectors', shape: [1, 2], data: new Float32Array([1, 2]) }],
    moments: [{ key: 'ti.vectors', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
    created: 1000,
  });

  it('round-trips through structured clones and lists summaries', async () => {
    const store = new MemoryCheckpointStore();
    await store.put('a', checkpoint());
    expect(await store.get('a')).toEqual(checkpoint());
    expect(await store.get('b')).toBeNull();
    expect(await store.list()).toEqual([{ id: 'a', model: 'm', method: 'both', token: '<my-cat>', step: 3, steps: 6, created: 1000, bytes: 24 }]);
    await store.delete('a');
    expect(await store.list()).toEqual([]);
  });

  it('IndexedDB adapter: round-trips, lists, deletes; a full disk is a named quota error', async () => {
    const store = new IndexedDbCheckpointStore(new IDBFactory());
    await store.put('a', checkpoint());
    await store.put('b', { ...checkpoint(), created: 500 });
    expect(await store.get('a')).toEqual(checkpoint());
    expect((await store.list()).map((s) => s.id)).toEqual(['b', 'a']);
    await store.delete('b');
    expect(await store.get('b')).toBeNull();
    const full = new IndexedDbCheckpointStore(indexedDbWithQuota(16)); // the checkpoint's tensors are 24 bytes
    await expect(full.put('a', checkpoint())).rejects.toMatchObject({ name: 'StorageQuotaExceeded' });
  });

  it('restores plain arrays and rejects unknown versions and broken records by name', () => {
    const json = JSON.parse(JSON.stringify({ ...checkpoint(), tensors: [{ key: 'ti.vectors', shape: [1, 2], data: [1, 2] }] }));
    json.moments[0].data = [1, 2, 3, 4];
    expect(restoreCheckpoint(json).tensors[0].data).toEqual(new Float32Array([1, 2]));
    const fail = (raw: unknown) => {
      try {
        restoreCheckpoint(raw);
      } catch (e) {
        return e instanceof StudioError ? e.name : 'other';
      }
      return 'none';
    };
    expect(fail({ ...checkpoint(), version: 99 })).toBe('CheckpointUnreadable');
    expect(fail({ ...checkpoint(), tensors: [{ key: 'ti.vectors', shape: [2, 2], data: new Float32Array(2) }] })).toBe('CheckpointUnreadable');
    expect(fail(null)).toBe('CheckpointUnreadable');
  });

  it('a config with targets missing or a string is CheckpointUnreadable naming targets, not a TypeError', () => {
    const { targets: _t, ...noTargets } = checkpoint().config;
    for (const config of [noTargets, { ...checkpoint().config, targets: 'to_k' }, { ...checkpoint().config, targets: null }]) {
      let error: unknown = null;
      try {
        restoreCheckpoint({ ...checkpoint(), config });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StudioError);
      expect(error).toMatchObject({ name: 'CheckpointUnreadable', message: expect.stringMatching(/^This training checkpoint cannot be read: training option targets (is missing|= .* must be some of)/) });
    }
    const { steps: _s, ...noSteps } = checkpoint().config;
    expect(() => restoreCheckpoint({ ...checkpoint(), config: noSteps })).toThrow(/training option steps is missing/);
  });

  it('a checkpoint from before gradient clipping goes on unclipped, as it was trained', () => {
    const { maxGradNorm: _m, ...older } = checkpoint().config;
    expect(checkpoint().config.maxGradNorm).toBe(1);
    expect(restoreCheckpoint({ ...checkpoint(), config: older }).config.maxGradNorm).toBeNull();
    expect(restoreCheckpoint(checkpoint()).config.maxGradNorm).toBe(1);
  });

  it('a checkpoint from before text-encoder LoRAs resumes without one', () => {
    const { textEncoderLora: _t, textEncoderLearningRate: _r, ...older } = checkpoint().config;
    expect(restoreCheckpoint({ ...checkpoint(), config: older }).config).toMatchObject({ textEncoderLora: false, textEncoderLearningRate: 5e-5 });
  });
});

describe('Trainer on the tiny model', () => {
  it('encodes each image once, leaks nothing per step, and leaves frozen weights alone', async () => {
    const baseline = tf.memory().numTensors;
    let encodes = 0;
    const encode = (image: tf.Tensor4D) => {
      encodes += 1;
      return vaeEncode(model.vae.weights, model.vae.config, image);
    };
    const trainer = Trainer.create(model, options({ steps: 4 }), images, { encode });
    expect(encodes).toBe(2);
    expect(trainer.imageCount).toBe(2);
    const live: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await trainer.step();
      expect(r.step).toBe(i + 1);
      expect(Number.isFinite(r.loss)).toBe(true);
      live.push(tf.memory().numTensors);
    }
    expect(encodes).toBe(2);
    expect(live).toEqual(live.map(() => live[0]));
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });

  it("refuses a token the model already knows before encoding a photo, when it gets vectors", () => {
    const baseline = tf.memory().numTensors;
    let encodes = 0;
    const encode = (image: tf.Tensor4D) => {
      encodes += 1;
      return vaeEncode(model.vae.weights, model.vae.config, image);
    };
    for (const method of ['ti', 'both'] as const) {
      expect(() => Trainer.create(model, options({ method, token: 'Cat' }), images, { encode })).toThrow(expect.objectContaining({ name: 'TokenInvalid', message: '"Cat" is a word the model already knows: its own meaning would be lost.' }));
    }
    expect(encodes).toBe(0);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('clips the gradients to maxGradNorm before AdamW (a tiny max leaves the LoRA nearly still), leaking nothing', async () => {
    const upAfterOneStep = async (maxGradNorm: number | null) => {
      const trainer = Trainer.create(model, options({ method: 'lora', steps: 1, loraLearningRate: 1e-2, weightDecay: 0, maxGradNorm }), images);
      const before = tf.memory().numTensors;
      await trainer.step();
      expect(tf.memory().numTensors).toBe(before);
      const saved = await trainer.checkpoint();
      trainer.dispose();
      // the ups start at zero: after one step they hold the update
      return Math.max(...saved.tensors.filter((t) => t.key.endsWith('up.weight')).flatMap((t) => Array.from(t.data, Math.abs)));
    };
    const free = await upAfterOneStep(null);
    const clipped = await upAfterOneStep(1e-12);
    expect(free).toBeCloseTo(1e-2, 3); // AdamW's first step: the rate, whatever the gradient's size
    expect(clipped).toBeLessThan(free / 100); // gradients below AdamW's epsilon barely move it
    expect(clipped).toBeGreaterThan(0);
    await expectFrozen();
  });

  it('a step with a non-finite loss throws TrainingDiverged naming it; it is not applied and the generator rewinds', async () => {
    const trainer = Trainer.create(model, options({ steps: 4, tiLearningRate: 1e4, loraLearningRate: 1e4 }), images); // losses 1.20, 1.12, NaN
    const saves: Checkpoint[] = [];
    const checkpoints = { every: 1, save: (c: Checkpoint) => void saves.push(c) };
    expect(await trainer.run({ checkpoints, shouldPause: () => trainer.stepsDone === 2 })).toBe('paused');
    const error = await trainer.run({ checkpoints }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TrainingDiverged', message: 'Training diverged at step 3: lower the learning rate.' });
    expect(trainer.stepsDone).toBe(2);
    expect(saves.map((c) => c.step)).toEqual([1, 2]); // step 1's once step 2 proved it, step 2's on pause
    // the trainer is as it was before step 3: same tensors, moments and generator state
    expect({ ...(await trainer.checkpoint()), created: 0 }).toEqual({ ...saves[1], created: 0 });
    trainer.dispose();
    await expectFrozen();
  });

  it('lowers the loss on a fixed batch (TI + LoRA)', async () => {
    const trainer = Trainer.create(model, options({ steps: 8, tiLearningRate: 1e-1, loraLearningRate: 5e-2, weightDecay: 0 }), images);
    const timesteps = [100, 400, 700];
    const before = await trainer.evaluate(timesteps, 1);
    const aborted = new AbortController();
    aborted.abort();
    expect(await trainer.run({ signal: aborted.signal })).toBe('aborted');
    expect(trainer.stepsDone).toBe(0);
    const losses: number[] = [];
    await trainer.run({ onProgress: (p) => losses.push(p.loss) });
    const after = await trainer.evaluate(timesteps, 1);
    trainer.dispose();
    expect(losses.length).toBe(8);
    // about 1.200 → 1.160 with this seed
    expect(after).toBeLessThan(before * 0.995);
  });

  it.each([
    { what: 'TI + LoRA', o: { tiLearningRate: 1e-2 }, rate: 'ti', rates: [5e-3, 1e-2] },
    { what: 'LoRA on the UNet and the text encoder', o: { method: 'lora', textEncoderLora: true, textEncoderLearningRate: 2e-3 }, rate: 'textEncoder', rates: [1e-3, 2e-3] },
  ] as const)('$what: resumes from a stored checkpoint exactly where it stopped', async ({ o, rate, rates }) => {
    const config = options({ steps: 6, warmupSteps: 2, loraLearningRate: 1e-3, ...o });
    // 6 steps straight
    const straight = Trainer.create(model, config, images);
    const expected: number[] = [];
    for (let i = 0; i < 6; i++) expected.push((await straight.step()).loss);
    const expectedTensors = await trainable(straight);
    const expectedMoments = (await straight.checkpoint()).moments.map((m) => m.data);
    straight.dispose();

    // 3 steps, pause, checkpoint through the store
    const first = Trainer.create(model, config, images);
    const losses: number[] = [];
    const lrs: (number | undefined)[] = [];
    const outcome = await first.run({ shouldPause: () => first.stepsDone >= 3, onProgress: (p) => (losses.push(p.loss), lrs.push(p.lr[rate])) });
    expect(outcome).toBe('paused');
    const store = new MemoryCheckpointStore();
    await store.put('run', await first.checkpoint());
    first.dispose();

    // 3 more in a fresh trainer
    const resumed = Trainer.resume(model, (await store.get('run'))!, images);
    expect(resumed.stepsDone).toBe(3);
    expect(resumed.config).toEqual(resolveTrainerConfig(config));
    expect(await resumed.run({ onProgress: (p) => (losses.push(p.loss), lrs.push(p.lr[rate])) })).toBe('done');
    const progress = resumed.progress();
    expect(progress.step).toBe(6);
    expect(Number.isFinite(progress.smoothedLoss)).toBe(true);
    const resumedTensors = await trainable(resumed);
    const resumedMoments = (await resumed.checkpoint()).moments.map((m) => m.data);
    resumed.dispose();

    expect(lrs).toEqual([rates[0], ...Array(5).fill(rates[1])]);
    expect(losses).toEqual(expected);
    expect(resumedTensors.length).toBe(expectedTensors.length);
    resumedTensors.forEach((t, i) => expect(t).toEqual(expectedTensors[i]));
    resumedMoments.forEach((m, i) => expect(m).toEqual(expectedMoments[i]));
    await expectFrozen();
  });

  it('run hooks: checkpoints on their cadence, on pause and at the end; previews on theirs and at the end', async () => {
    const trainer = Trainer.create(model, options({ steps: 5 }), images);
    const saved: number[] = [];
    const previews: { step: number; prompt: string; width: number }[] = [];
    const hooks = {
      checkpoints: { every: 2, save: (c: Checkpoint) => void saved.push(c.step) },
      previews: { every: 3, options: { steps: 1 }, show: (p: TrainingPreview) => void previews.push({ step: p.step, prompt: p.prompt, width: p.image.width }) },
    };
    expect(await trainer.run({ ...hooks, shouldPause: () => trainer.stepsDone === 3 })).toBe('paused');
    expect(saved).toEqual([2, 3]);
    expect(previews.map((p) => p.step)).toEqual([3]);
    expect(await trainer.run(hooks)).toBe('done');
    trainer.dispose();
    expect(saved).toEqual([2, 3, 4, 5]);
    expect(previews).toEqual([
      { step: 3, prompt: 'a photo of a <my-cat>', width: RES },
      { step: 5, prompt: 'a photo of a <my-cat>', width: RES },
    ]);
    await expectFrozen();
  });

  it.each(['ti', 'lora'] as const)('%s alone: a checkpoint resumes to the same tensors and moments', async (method) => {
    const trainer = Trainer.create(model, options({ method, steps: 2 }), images);
    expect(trainer.placeholder).toBe(method === 'ti' ? '<my-cat>' : '<my-cat> cat');
    await trainer.step();
    const saved = await trainer.checkpoint();
    trainer.dispose();
    expect(saved.tensors.some((t) => t.key === 'ti.vectors')).toBe(method === 'ti');
    const resumed = Trainer.resume(model, structuredClone(saved), images);
    const again = await resumed.checkpoint();
    expect({ ...again, created: 0 }).toEqual({ ...saved, created: 0 });
    expect(Number.isFinite((await resumed.step()).loss)).toBe(true);
    resumed.dispose();
    await expectFrozen();
  });
});
