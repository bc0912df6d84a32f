/**
 * A DreamBooth run through the engine: the request's options pass through, class images are
 * their own progress phase before the steps, the concept is a LoRA marked 'dreambooth' that
 * exports as the usual LoRA files, and a resumed run draws no class image again.
 */
import { beforeAll, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { engineWithTinyModel, jobContext } from '../test/engine';
import type { Engine } from './engine';
import type { Progress } from './protocol';

const RES = 64;
const images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
const options = { method: 'dreambooth' as const, token: '<my-cat>', classWord: 'cat', steps: 2, resolution: RES, seed: 1, classImages: 2, classImageSteps: 1, priorLossWeight: 0.5 };

let engine: Engine;
const store = new MemoryCheckpointStore();

beforeAll(async () => {
  engine = await engineWithTinyModel(store);
});

it('draws the class images as their own phase, pauses and resumes without drawing them again, and answers with a DreamBooth LoRA', async () => {
  const before = tf.memory().numTensors;
  const first: Progress[] = [];
  const paused = await engine.train({ runId: 'db', options, images, checkpointEvery: 1, preview: null }, jobContext((p) => {
    first.push(p);
    if (p.training?.step === 1) engine.pauseTraining({ runId: 'db' });
  }));
  expect(paused).toMatchObject({ outcome: 'paused', step: 1 });
  expect(first.map((p) => [p.label.replace(/loss .*/, 'loss'), p.fraction])).toEqual([
    ['Class images 1/2 (a cat)', 0.5],
    ['Class images 2/2 (a cat)', 1],
    ['Step 1/2, loss', 0.5],
  ]);
  const stored = (await store.get('db'))!;
  expect(stored.config).toMatchObject({ method: 'dreambooth', classImages: 2, classImageSteps: 1, priorLossWeight: 0.5, identifier: 'added' });
  expect(stored.classLatents?.mean.shape).toEqual([2, 4, 8, 8]);

  const rest: Progress[] = [];
  const done = await engine.train({ runId: 'db', options, images, resume: true, preview: null }, jobContext((p) => rest.push(p)));
  expect(done).toMatchObject({ outcome: 'done', step: 2 });
  expect(rest.map((p) => p.label.replace(/loss .*/, 'loss'))).toEqual(['Step 2/2, loss']);
  expect((await store.get('db'))!.classLatents).toEqual(stored.classLatents);
  const concept = done.outcome === 'done' ? done.concept : null;
  expect(concept).toMatchObject({ method: 'dreambooth', token: '<my-cat>', classWord: 'cat', embedding: null });
  expect(concept!.lora!.layers.length).toBe(32);
  const file = await engine.exportRun({ runId: 'db', what: { kind: 'lora', layout: 'peft', dtype: 'F16' } });
  expect(file.fileName).toBe('my-cat-lora-peft.safetensors');
  expect(tf.memory().numTensors).toBe(before);
});

it("a rare-token run names the word it picked in its progress and its concept", async () => {
  const progress: string[] = [];
  const result = await engine.train({ runId: 'rare', options: { ...options, steps: 1, classImages: 1, identifier: 'rare' }, images, preview: null }, jobContext((p) => progress.push(p.label)));
  const token = result.outcome === 'done' ? result.concept.token : '';
  expect(token).toMatch(/^[a-z]{1,3}$/);
  expect(progress[0]).toBe(`Class images 1/1 (a cat; identifier "${token}")`);
  expect((await store.get('rare'))!.config.token).toBe(token);
});
