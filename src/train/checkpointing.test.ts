/**
 * Activation checkpointing (`LossOptions.checkpointing` → `unetForward`'s recomputed segments):
 * the same loss and gradients as the plain backward pass for textual inversion, LoRA and both,
 * nothing leaked, and fewer GPU bytes held across a step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { unetForward } from '../model/unet';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { randomNormal } from '../common/random';
import { LORA_TARGETS, type LoraTarget } from './config';
import { Lora } from './lora';
import { diffusionLoss, lossAndGrads, type LossOptions, type TrainingBatch } from './loss';
import { TextualInversion } from './textual-inversion';

let model: StableDiffusionModel;
let scheduler: DdpmScheduler;
let tokenizer: ClipTokenizer;
let frozen: Map<string, Uint8Array>;

function batch(prompt: string, side: number): TrainingBatch {
  const shape: [number, number, number, number] = [1, 4, side, side];
  const n = 4 * side * side;
  return {
    latents: tf.tensor4d(randomNormal(n, 1), shape),
    noise: tf.tensor4d(randomNormal(n, 2), shape),
    timesteps: [500],
    inputIds: tf.tensor2d([tokenizer.encode(prompt).ids], undefined, 'int32'),
  };
}

const disposeBatch = (b: TrainingBatch) => tf.dispose([b.latents, b.noise, b.inputIds]);

/** LoRA whose up matrices are not zero (as after some training), so every adapter gradient is. */
function loraWithSignal(seed: number, targets: readonly LoraTarget[] = LORA_TARGETS): Lora {
  const lora = Lora.create(model.unet.weights, model.unet.config, { rank: 2, targets, seed });
  lora.layers.forEach((l, i) => tf.tidy(() => l.up.assign(tf.tensor2d(randomNormal(l.up.size, 100 + i, 0.1), l.up.shape))));
  return lora;
}

/** Loss and gradients as arrays; checks that the call leaves no tensor behind. */
async function step(b: TrainingBatch, variables: tf.Variable[], options: LossOptions) {
  const before = tf.memory().numTensors;
  const { loss, grads } = lossAndGrads(model, scheduler, b, variables, options);
  const out = { loss: (await loss.data())[0], grads: await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>)) };
  tf.dispose([loss, ...grads]);
  expect(tf.memory().numTensors, 'live tensors after the step').toBe(before);
  return out;
}

/** max |a − b| ≤ rel · max |a| (and a is not all zeros). */
function expectClose(a: Float32Array, b: Float32Array, rel: number, what: string): void {
  expect(b.length, what).toBe(a.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  expect(scale, `${what}: not all zeros`).toBeGreaterThan(0);
  expect(diff, what).toBeLessThanOrEqual(rel * scale);
}

async function expectSameStep(b: TrainingBatch, variables: tf.Variable[], options: LossOptions = {}): Promise<void> {
  const plain = await step(b, variables, { ...options, checkpointing: false });
  const recomputed = await step(b, variables, { ...options, checkpointing: true });
  expect(Number.isFinite(plain.loss)).toBe(true);
  expect(Math.abs(recomputed.loss - plain.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(plain.loss));
  plain.grads.forEach((g, i) => expectClose(g, recomputed.grads[i], 1e-5, `gradient of ${variables[i].name}`));
}

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
  tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
  frozen = await snapshotWeights(model);
});

afterAll(() => model?.dispose());

describe('checkpointed UNet segments', () => {
  it('give the same forward output, bit for bit', async () => {
    const b = batch('a photo of a cat', 8);
    const text = tf.tensor3d(randomNormal(77 * 32, 5), [1, 77, 32]);
    const input = { sample: b.latents, timesteps: [300], encoderHiddenStates: text };
    const plain = unetForward(model.unet.weights, model.unet.config, input);
    const before = tf.memory().numTensors;
    const recomputed = unetForward(model.unet.weights, model.unet.config, input, undefined, { checkpointing: true });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(await recomputed.data()).toEqual(await plain.data());
    tf.dispose([plain, recomputed, text]);
    disposeBatch(b);
  });

  it('textual inversion: same loss and gradient, no leak', async () => {
    const baseline = tf.memory().numTensors;
    const tokenIds = tokenizer.addConcept('<ckpt-cat>', 2);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 2, initIds: tokenizer.tokenize('cat'), tokenIds });
    const b = batch('a photo of <ckpt-cat>', 16);
    await expectSameStep(b, [ti.vectors], { embedTokens: ti.embedTokens });
    ti.dispose();
    disposeBatch(b);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('LoRA on q/k/v/out: same loss and every adapter gradient, no leak', async () => {
    const baseline = tf.memory().numTensors;
    const lora = loraWithSignal(7);
    const b = batch('a photo of a cat', 16);
    await expectSameStep(b, lora.variables());
    lora.dispose();
    disposeBatch(b);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('both together, and TI alone with a trainable LoRA attached but not trained: same results, no leak', async () => {
    const baseline = tf.memory().numTensors;
    const tokenIds = tokenizer.addConcept('<ckpt-dog>', 1);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 1, initIds: tokenizer.tokenize('dog'), tokenIds });
    const lora = loraWithSignal(3, ['to_k', 'to_v']);
    const b = batch('<ckpt-dog> on a sofa', 16);
    await expectSameStep(b, [ti.vectors, ...lora.variables()], { embedTokens: ti.embedTokens });
    // the segments still take the attached adapters as inputs; the outer pass needs none of theirs
    await expectSameStep(b, [ti.vectors], { embedTokens: ti.embedTokens });
    ti.dispose();
    lora.dispose();
    disposeBatch(b);
    expect(tf.memory().numTensors).toBe(baseline);
    expect(await changedWeights(model, frozen)).toEqual([]);
  });

  it('hold fewer GPU bytes across a step (peak, and what the forward pass keeps for the backward)', async () => {
    const tokenIds = tokenizer.addConcept('<ckpt-fox>', 1);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 1, initIds: tokenizer.tokenize('fox'), tokenIds });
    const lora = loraWithSignal(11, ['to_k', 'to_v']);
    const variables = [ti.vectors, ...lora.variables()];
    const b = batch('<ckpt-fox> in the snow', 32);
    const measure = async (checkpointing: boolean) => {
      const start = tf.memory().numBytes;
      let kept = 0;
      // bytes alive when the forward pass ends: the loss and what the tape keeps for the backward
      const { value, grads } = tf.variableGrads(() => {
        const parts = diffusionLoss(model, scheduler, b, { embedTokens: ti.embedTokens, checkpointing });
        kept = tf.memory().numBytes - start;
        return parts.loss;
      }, variables);
      tf.dispose([value, ...Object.values(grads)]);
      const profile = await tf.profile(() => {
        const { loss, grads: g } = lossAndGrads(model, scheduler, b, variables, { embedTokens: ti.embedTokens, checkpointing });
        tf.dispose([loss, ...g]);
      });
      return { kept, peak: profile.peakBytes - start };
    };
    const plain = await measure(false);
    const recomputed = await measure(true);
    console.log(`checkpointing, tiny UNet, 32×32 latents: kept for backward ${plain.kept} → ${recomputed.kept} B, step peak ${plain.peak} → ${recomputed.peak} B`);
    expect(recomputed.kept).toBeLessThan(0.5 * plain.kept);
    expect(recomputed.peak).toBeLessThan(0.8 * plain.peak);
    ti.dispose();
    lora.dispose();
    disposeBatch(b);
  });
});
