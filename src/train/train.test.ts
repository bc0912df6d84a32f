import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { AdamW } from '../kernels/adamw';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights } from '../test/model-fixtures';
import { randomNormal } from '../common/random';
import { LORA_TARGETS } from './config';
import { crossAttentionLayers, Lora, loraKey, textEncoderAttentionModules } from './lora';
import { diffusionLoss, lossAndGrads, type LossOptions, type TrainingBatch } from './loss';
import { embedWithRows, TextualInversion } from './textual-inversion';

const FIXTURE = new URL('../test/fixtures/tiny-sd', import.meta.url).pathname;
const STEPS = 10;
/** Latents 16×16 (128 px): small enough for software WebGPU, 2×2 at the deepest level. */
const LATENT: [number, number, number, number] = [1, 4, 16, 16];

let model: StableDiffusionModel;
let scheduler: DdpmScheduler;
let tokenizer: ClipTokenizer;
let frozen: Map<string, Uint8Array>;

async function expectFrozen(): Promise<void> {
  expect(await changedWeights(model, frozen)).toEqual([]);
  expect(model.text.weights.tensor('embeddings.token_embedding.weight').shape).toEqual([model.text.config.vocabSize, model.text.config.hiddenSize]);
  expect(model.unet.weights.adapterPrefixes()).toEqual([]);
  expect(model.text.weights.adapterPrefixes()).toEqual([]);
}

function batch(prompt: string): TrainingBatch {
  const n = LATENT.reduce((a, b) => a * b);
  return {
    latents: tf.tensor4d(randomNormal(n, 1), LATENT),
    noise: tf.tensor4d(randomNormal(n, 2), LATENT),
    timesteps: [500],
    inputIds: tf.tensor2d([tokenizer.encode(prompt).ids], undefined, 'int32'),
  };
}

/**
 * STEPS AdamW steps on one fixed batch: the losses before each step and after the last, and the
 * live tensor count after each step.
 */
async function train(b: TrainingBatch, variables: tf.Variable[], learningRate: number, options: LossOptions = {}) {
  const optimizer = new AdamW(variables, { learningRate, weightDecay: 0 });
  const losses: number[] = [];
  const liveTensors: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const { loss, grads } = lossAndGrads(model, scheduler, b, variables, options);
    optimizer.apply(grads);
    losses.push((await loss.data())[0]);
    tf.dispose([loss, ...grads]);
    liveTensors.push(tf.memory().numTensors);
  }
  const last = diffusionLoss(model, scheduler, b, options);
  losses.push((await last.loss.data())[0]);
  tf.dispose(Object.values(last));
  optimizer.dispose();
  return { losses, liveTensors };
}

function expectTrained({ losses, liveTensors }: { losses: number[]; liveTensors: number[] }): void {
  expect(losses.every(Number.isFinite)).toBe(true);
  // every step lowers the loss on this batch (the smallest drop, TI's, is about 1e-4)
  for (let i = 1; i <= STEPS; i++) expect(losses[i], `loss after step ${i}`).toBeLessThan(losses[i - 1]);
  expect(liveTensors.slice(1)).toEqual(liveTensors.slice(1).map(() => liveTensors[1]));
}

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(FIXTURE));
  scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
  tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
  frozen = await snapshotWeights(model);
});

afterAll(() => model?.dispose());

describe('textual inversion lookup', () => {
  it('takes new ids from the trainable rows, the others from the table, and differentiates only the rows', async () => {
    const table = tf.tensor2d(randomNormal(5 * 3, 3), [5, 3]);
    const rows = tf.variable(tf.tensor2d(randomNormal(2 * 3, 4), [2, 3]));
    const ids = tf.tensor2d([[0, 5, 4, 6, 5]], [1, 5], 'int32');
    const embed = embedWithRows({ rows: 5, width: 3, gather: (i) => tf.gather(table, i) }, [5, 6], rows);
    const before = tf.memory().numTensors;
    const out = embed(ids);
    const t = await table.array();
    const r = await rows.array();
    expect(await out.array()).toEqual([[t[0], r[0], t[4], r[1], r[0]]]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(embed(ids), tf.range(1, 16).reshape([1, 5, 3]))) as tf.Scalar, [rows]);
    // row 0 (id 5) is read at positions 1 and 4, row 1 (id 6) at position 3
    expect(await grads[rows.name].array()).toEqual([[4 + 13, 5 + 14, 6 + 15], [10, 11, 12]]);
    tf.dispose([out, value, grads[rows.name]]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([table, rows, ids]);
  });
});

describe('LoRA adapters', () => {
  it('finds every attn2 from the config, with the golden keys, and detaches on dispose', () => {
    const layers = crossAttentionLayers(model.unet.config);
    expect(layers.length).toBe(16);
    expect(layers.map((l) => l.prefix)).toContain('mid_block.attentions.0.transformer_blocks.0.attn2');
    const lora = Lora.create(model.unet.weights, model.unet.config, { rank: 4, targets: LORA_TARGETS });
    expect(lora.keys()).toContain(loraKey('up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_out.0', 'down'));
    expect(model.unet.weights.adapterPrefixes().length).toBe(64);
    lora.dispose();
    expect(model.unet.weights.adapterPrefixes()).toEqual([]);
  });
});

describe(`${STEPS} AdamW steps on a fixed batch`, () => {
  it('textual inversion (2 vectors, from the class word) lowers the loss; frozen weights unchanged; no leak', async () => {
    const baseline = tf.memory().numTensors;
    const ids = tokenizer.addConcept('<sks-cat>', 2);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 2, initIds: tokenizer.tokenize('cat'), tokenIds: ids });
    const b = batch('a photo of <sks-cat>');
    const initial = await ti.vectors.array();
    const result = await train(b, [ti.vectors], 5e-2, { embedTokens: ti.embedTokens });
    expectTrained(result);
    expect(await ti.vectors.array()).not.toEqual(initial);
    ti.dispose();
    tf.dispose([b.latents, b.noise, b.inputIds]);
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });

  const loras: [string, () => Lora][] = [
    ["the UNet's attn2 to_k/to_v", () => Lora.create(model.unet.weights, model.unet.config, { rank: 4, seed: 7 })],
    ["the text encoder's q/k/v/out_proj alone", () => Lora.createOn(model.text.weights, 'text_encoder', textEncoderAttentionModules(model.text.config), { rank: 4, seed: 7 })],
  ];
  it.each(loras)('LoRA on %s (rank 4) lowers the loss; frozen weights unchanged; no leak', async (_, make) => {
    const baseline = tf.memory().numTensors;
    const lora = make();
    const b = batch('a photo of a cat');
    const result = await train(b, lora.variables(), 1e-2);
    expectTrained(result);
    lora.dispose();
    tf.dispose([b.latents, b.noise, b.inputIds]);
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });

  it('textual inversion and LoRA together lower the loss; frozen weights unchanged; no leak', async () => {
    const baseline = tf.memory().numTensors;
    const tokenIds = tokenizer.addConcept('<sks-dog>', 1);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 1, initIds: tokenizer.tokenize('dog'), tokenIds });
    const lora = Lora.create(model.unet.weights, model.unet.config, { rank: 2, alpha: 4, targets: LORA_TARGETS, seed: 3 });
    const b = batch('<sks-dog> on a sofa');
    const result = await train(b, [ti.vectors, ...lora.variables()], 1e-2, { embedTokens: ti.embedTokens });
    expectTrained(result);
    ti.dispose();
    lora.dispose();
    tf.dispose([b.latents, b.noise, b.inputIds]);
    expect(tf.memory().numTensors).toBe(baseline);
    await expectFrozen();
  });
});
