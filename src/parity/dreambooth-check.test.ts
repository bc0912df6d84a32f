/**
 * `npm run parity`'s DreamBooth tensors on the tiny model against tiny-sd-golden-methods
 * (diffusers' train_dreambooth_lora.py prior-preservation loss), at the golden's own tolerances.
 */
import { openAsBlob, existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { nodeFolderSource } from '../model/sources/node-folder';
import { changedWeights, snapshotWeights, TINY_SD } from '../test/model-fixtures';
import { Golden } from './golden';
import { runParity } from './parity';
import { dreamboothGoldenCheck } from './dreambooth-check';

const GOLDEN = new URL('../test/fixtures/tiny-sd-golden-methods/', import.meta.url).pathname;

let model: StableDiffusionModel;
let golden: Golden;

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  golden = await Golden.open(async (p) => (existsSync(GOLDEN + p) ? openAsBlob(GOLDEN + p) : null));
});

afterAll(() => model?.dispose());

it('computes every DreamBooth tensor of the methods golden within its suggested tolerance, leaking nothing', async () => {
  const frozen = await snapshotWeights(model);
  const before = tf.memory().numTensors;
  const lines = (await runParity(model, golden, () => {}, [dreamboothGoldenCheck])).filter((l) => l.name.startsWith('dreambooth.'));
  expect(tf.memory().numTensors).toBe(before);
  expect(await changedWeights(model, frozen)).toEqual([]);
  expect(model.unet.weights.adapterPrefixes()).toEqual([]);
  const byName = new Map(lines.map((l) => [l.name, l]));
  const grads = golden.names().filter((n) => n.startsWith('dreambooth.lora_grad.'));
  expect(grads.length).toBe(128);
  const expected = ['dreambooth.input_ids', 'dreambooth.noisy_latents', 'dreambooth.encoder_hidden_states', 'dreambooth.model_pred', 'dreambooth.instance_loss', 'dreambooth.prior_loss', 'dreambooth.loss', ...grads];
  expect([...byName.keys()].sort()).toEqual(expected.sort());
  expect(lines.filter((l) => !l.ok).map((l) => `${l.name} ${l.relErr}`)).toEqual([]);
  // the README's losses: instance 1.197491, prior 1.1716493, total 2.3691404 (tolerance 1e-3 relative)
  expect(byName.get('dreambooth.loss')!.maxAbsGolden).toBeCloseTo(2.3691404, 6);
  expect(byName.get('dreambooth.instance_loss')!.maxAbsErr).toBeLessThanOrEqual(1e-3 * 1.197491);
  expect(byName.get('dreambooth.prior_loss')!.maxAbsErr).toBeLessThanOrEqual(1e-3 * 1.1716493);
  expect(byName.get('dreambooth.input_ids')!.maxAbsErr).toBe(0);
  const worst = lines.reduce((a, l) => (l.relErr > a.relErr ? l : a));
  console.log(`dreambooth parity: ${lines.length} tensors, worst ${worst.name} rel ${worst.relErr.toExponential(2)}`);
});

it("opens the methods golden's F64 tensors (relabelled for the reader) as float64 values rounded to float32", async () => {
  const [c64, c32] = await Promise.all([golden.get('perfusion.C_f64'), golden.get('perfusion.C')]);
  expect(c64.shape).toEqual([32, 32]);
  expect(c64.data).toEqual(c32.data.map((v, i) => (Math.abs(v - c64.data[i]) <= 1e-6 * Math.abs(v) ? c64.data[i] : NaN)));
});
