/**
 * LoRA on the text encoder (`textEncoderLora`, diffusers' `--train_text_encoder`): adapters on
 * every layer's self-attention q/k/v/out_proj, initialised as PEFT does, trained on the gradient
 * tape with their own rate; the frozen weights stay bit for bit, nothing leaks, and without the
 * option the text encoder has no adapter at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { randomNormal } from '../common/random';
import type { TrainerOptions } from './config';
import { Lora, loraKey, textEncoderAttentionModules, type LoraValue } from './lora';
import { Trainer } from './trainer';

const RES = 64;

let model: StableDiffusionModel;
let frozen: Map<string, Uint8Array>;
let images: Float32Array;

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({
  method: 'lora',
  token: '<te-cat>',
  classWord: 'cat',
  steps: 4,
  resolution: RES,
  rank: 2,
  seed: 5,
  textEncoderLora: true,
  ...o,
});

async function expectFrozen(): Promise<void> {
  expect(await changedWeights(model, frozen)).toEqual([]);
  expect(model.text.weights.adapterPrefixes()).toEqual([]);
  expect(model.unet.weights.adapterPrefixes()).toEqual([]);
}

const maxAbs = async (t: tf.Tensor) => Math.max(...Array.from(await t.data(), Math.abs));

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  frozen = await snapshotWeights(model);
  images = randomNormal(2 * 3 * RES * RES, 9, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
});

afterAll(() => model?.dispose());

describe('text-encoder LoRA adapters', () => {
  it("sit on every layer's q/k/v/out_proj: down U(−1/√in, 1/√in), up zero, text_encoder keys; they detach on dispose", async () => {
    const modules = textEncoderAttentionModules(model.text.config);
    expect(modules.map((m) => m.prefix)).toEqual([0, 1].flatMap((i) => ['q', 'k', 'v', 'out'].map((p) => `encoder.layers.${i}.self_attn.${p}_proj`)));
    expect(modules.every((m) => m.shape[0] === 32 && m.shape[1] === 32)).toBe(true);
    const lora = Lora.createOn(model.text.weights, 'text_encoder', modules, { rank: 2, alpha: 4, seed: 1 });
    expect(lora.scale).toBe(2);
    expect(model.text.weights.adapterPrefixes()).toEqual(modules.map((m) => m.prefix));
    expect(lora.keys().slice(0, 2)).toEqual(['text_encoder.encoder.layers.0.self_attn.q_proj.lora.down.weight', 'text_encoder.encoder.layers.0.self_attn.q_proj.lora.up.weight']);
    for (const l of lora.layers) {
      expect(l.down.shape).toEqual([2, 32]);
      expect(await maxAbs(l.up)).toBe(0);
      const bound = await maxAbs(l.down);
      expect(bound).toBeGreaterThan(0);
      expect(bound).toBeLessThanOrEqual(1 / Math.sqrt(32));
    }
    // saved values come back on the text encoder only; UNet keys beside them are left alone
    const values = new Map<string, LoraValue>();
    for (const [i, v] of lora.variables().entries()) values.set(lora.keys()[i], { shape: [...v.shape], data: (await v.data()) as Float32Array });
    values.set(loraKey('mid_block.attentions.0.transformer_blocks.0.attn2.to_k', 'down'), { shape: [2, 32], data: new Float32Array(64) });
    lora.dispose();
    expect(model.text.weights.adapterPrefixes()).toEqual([]);
    const back = Lora.fromValues(model.text.weights, values, 2, 'text_encoder');
    expect(back.keys()).toEqual([...values.keys()].slice(0, -1));
    back.dispose();
    await expectFrozen();
  });
});

describe('Trainer with textEncoderLora', () => {
  it('method lora: the text encoder adapters train at their own rate, frozen weights stay, no leak per step', async () => {
    const baseline = tf.memory().numTensors;
    const trainer = Trainer.create(model, options({ steps: 3, loraLearningRate: 1e-3 }), images);
    const te = trainer.textEncoderLora!;
    expect(te.keys().length).toBe(16);
    expect(model.text.weights.adapterPrefixes().length).toBe(8);
    const live: number[] = [];
    const rates: (number | undefined)[] = [];
    await trainer.run({ onProgress: (p) => (live.push(tf.memory().numTensors), rates.push(p.lr.textEncoder)) });
    expect(rates).toEqual([5e-4, 5e-4, 5e-4]); // half the UNet's, by default
    expect(live).toEqual(live.map(() => live[0]));
    for (const l of te.layers) expect(await maxAbs(l.up), l.prefix).toBeGreaterThan(0);
    const saved = await trainer.checkpoint();
    expect(saved.tensors.filter((t) => t.key.startsWith('text_encoder.')).map((t) => t.key)).toEqual(te.keys());
    expect(saved.moments.map((m) => m.key)).toEqual(saved.tensors.map((t) => t.key));
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });

  it('method both: TI vectors, then the UNet\'s LoRA, then the text encoder\'s; a checkpoint resumes to the same tensors and moments', async () => {
    const trainer = Trainer.create(model, options({ method: 'both', steps: 2 }), images);
    expect((await trainer.step()).lr).toEqual({ ti: 5e-3, lora: 1e-4, textEncoder: 5e-5 });
    const saved = await trainer.checkpoint();
    trainer.dispose();
    const components = saved.tensors.map((t) => t.key.split('.')[0]);
    expect(components.indexOf('unet')).toBe(1);
    expect(components.indexOf('text_encoder')).toBe(components.lastIndexOf('unet') + 1);
    expect(components.filter((c) => c === 'text_encoder').length).toBe(16);
    expect([components[0], components.at(-1)]).toEqual(['ti', 'text_encoder']);
    const resumed = Trainer.resume(model, structuredClone(saved), images);
    expect({ ...(await resumed.checkpoint()), created: 0 }).toEqual({ ...saved, created: 0 });
    expect(Number.isFinite((await resumed.step()).loss)).toBe(true);
    resumed.dispose();
    await expectFrozen();
  });

  it('without the option the text encoder gets no adapter, and no text_encoder tensor is trained or saved', async () => {
    const trainer = Trainer.create(model, options({ steps: 1, textEncoderLora: false }), images);
    expect(trainer.textEncoderLora).toBeNull();
    expect(model.text.weights.adapterPrefixes()).toEqual([]);
    const { lr } = await trainer.step();
    expect(lr.textEncoder).toBeUndefined();
    const saved = await trainer.checkpoint();
    expect(saved.config.textEncoderLora).toBe(false);
    expect(saved.tensors.length).toBeGreaterThan(0);
    expect(saved.tensors.every((t) => t.key.startsWith('unet.'))).toBe(true);
    trainer.dispose();
    await expectFrozen();
  });
});
