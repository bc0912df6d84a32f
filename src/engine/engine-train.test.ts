import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../model/safetensors-reader';
import * as tf from '../gpu/tf';
import type { Engine } from './engine';
import { engineWithTinyModel, jobContext } from '../test/engine';
import type { Progress } from './protocol';
import { randomNormal } from '../common/random';
import { MemoryCheckpointStore } from '../train/checkpoint-store';

const FIXTURE = resolve(__dirname, '../test/fixtures/tiny-sd');
const RES = 64;
const images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
const options = { method: 'both' as const, token: '<my-cat>', classWord: 'cat', steps: 4, resolution: RES, seed: 1 };


describe('Engine training job', () => {
  let engine: Engine;
  const store = new MemoryCheckpointStore();

  beforeAll(async () => {
    engine = await engineWithTinyModel(store);
  });

  it('refuses to resume a run that has no checkpoint', async () => {
    await expect(engine.train({ runId: 'none', options, images, resume: true }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest' });
  });

  it('refuses a new run with steps 0 or 100000 in a plain sentence, before anything trains or is stored', async () => {
    for (const steps of [0, 100_000]) {
      const run = engine.train({ runId: `steps-${steps}`, options: { ...options, steps }, images }, jobContext());
      await expect(run).rejects.toMatchObject({ name: 'InvalidRequest', message: `Steps must be a whole number from 1 to 10,000; it is ${steps}.` });
      expect(await store.get(`steps-${steps}`)).toBeNull();
    }
  });

  it('trains with per-step progress, pauses into a checkpoint, resumes to the end, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const first = await engine.train({ runId: 'run-1', options, images, checkpointEvery: 1 }, jobContext((p) => {
      seen.push(p.training!.step);
      if (p.training!.step === 2) engine.pauseTraining({ runId: 'run-1' });
    }));
    expect(first).toMatchObject({ outcome: 'paused', step: 2 });
    expect(seen).toEqual([1, 2]);
    expect((await store.get('run-1'))?.step).toBe(2);

    const rest: Progress[] = [];
    const done = await engine.train({ runId: 'run-1', options, images, resume: true, preview: null }, jobContext((p) => rest.push(p)));
    expect(done).toMatchObject({ outcome: 'done', step: 4 });
    expect(rest.map((p) => p.training!.step)).toEqual([3, 4]);
    expect(rest[1].label).toMatch(/^Step 4\/4, loss \d/);
    expect(Number.isFinite(done.loss)).toBe(true);
    expect((await store.get('run-1'))?.step).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('answers a finished run with its concept (as runConcept gives it), on the studio policy; resuming it answers at once', async () => {
    const checkpointSteps: (number | null)[] = [];
    const samples: number[] = [];
    const result = await engine.train(
      { runId: 'run-3', options: { ...options, steps: 2 }, images, checkpointEvery: 1 },
      jobContext((p) => (p.sample ? samples.push(p.sample.step) : checkpointSteps.push(p.training!.checkpointStep))),
    );
    expect(result).toMatchObject({ outcome: 'done', step: 2 });
    const concept = result.outcome === 'done' ? result.concept : null;
    expect(concept).toEqual(await engine.runConcept({ runId: 'run-3' }));
    expect(checkpointSteps).toEqual([null, 1]);
    expect(samples).toEqual([2]); // the studio's preview at the end
    expect((await store.get('run-3'))!.config.gradientCheckpointing).toBe(true);

    const progress: Progress[] = [];
    const again = await engine.train({ runId: 'run-3', options, images, resume: true }, jobContext((p) => progress.push(p)));
    expect(again).toMatchObject({ outcome: 'done', step: 2 });
    expect(again.outcome === 'done' && again.concept).toEqual(concept);
    expect(progress).toEqual([]);
  });

  it('exports the trained concept as files other tools read', async () => {
    const { importPersonalization } = await import('../train/formats/import');
    const { parseUNetConfig } = await import('../model/config');
    const { readFileSync } = await import('node:fs');
    const unet = parseUNetConfig(JSON.parse(readFileSync(`${FIXTURE}/unet/config.json`, 'utf8')));
    const emb = await engine.exportRun({ runId: 'run-1', what: { kind: 'embedding', layout: 'single-key' } });
    expect(emb.fileName).toBe('my-cat.safetensors');
    const e = await importPersonalization(emb.bytes, emb.fileName, { textDim: 32, unet });
    expect(e).toMatchObject({ kind: 'embedding', token: '<my-cat>' });
    for (const layout of ['kohya', 'peft'] as const) {
      const file = await engine.exportRun({ runId: 'run-1', what: { kind: 'lora', layout, dtype: 'F16' } });
      const l = await importPersonalization(file.bytes, file.fileName, { textDim: 32, unet });
      expect(l).toMatchObject({ kind: 'lora', rank: 4 });
      expect(l.kind === 'lora' && l.layers.length).toBe(32); // to_k and to_v of the 16 attn2 layers
    }
    await expect(engine.exportRun({ runId: 'nope', what: { kind: 'embedding', layout: 'single-key' } })).rejects.toMatchObject({ name: 'InvalidRequest' });
  });

  it('LoRA on the text encoder too: the request carries it; the concept holds text_encoder layers beside the UNet\'s', async () => {
    const te = { ...options, method: 'lora' as const, steps: 1, textEncoderLora: true, textEncoderLearningRate: 3e-4 };
    const result = await engine.train({ runId: 'run-te', options: te, images, preview: null }, jobContext());
    expect(result).toMatchObject({ outcome: 'done', step: 1 });
    expect((await store.get('run-te'))!.config).toMatchObject({ textEncoderLora: true, textEncoderLearningRate: 3e-4 });
    const layers = result.outcome === 'done' ? result.concept.lora!.layers : [];
    const text = layers.filter((l) => l.component === 'text_encoder');
    expect(text.map((l) => l.prefix)).toEqual([0, 1].flatMap((i) => ['q', 'k', 'v', 'out'].map((p) => `encoder.layers.${i}.self_attn.${p}_proj`)));
    expect(text.every((l) => l.downShape.join() === '4,32' && l.upShape.join() === '32,4' && l.up.some((v) => v !== 0) && l.alpha === 4)).toBe(true);
    const unet = layers.filter((l) => l.component === undefined);
    expect(unet.length).toBe(32); // to_k and to_v of the 16 attn2 layers, with no component (the UNet)
    expect(unet.every((l) => !('component' in l) && l.prefix.includes('.attn2.'))).toBe(true);
    // the run's files name the text encoder's layers as kohya and diffusers do, and load back the same
    const kohya = await engine.exportRun({ runId: 'run-te', what: { kind: 'lora', layout: 'kohya', dtype: 'F32' } });
    const peft = await engine.exportRun({ runId: 'run-te', what: { kind: 'lora', layout: 'peft', dtype: 'F32' } });
    const names = async (bytes: Uint8Array) => (await SafetensorsFile.open(bytes, 'f')).names();
    expect(await names(kohya.bytes)).toContain('lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight');
    expect(await names(peft.bytes)).toContain('text_encoder.text_model.encoder.layers.1.self_attn.out_proj.lora_B.weight');
    for (const file of [kohya, peft]) {
      const back = await engine.importConcept({ file: new Blob([file.bytes as BlobPart]), fileName: file.fileName });
      expect(back.lora!.layers.filter((l) => l.component === 'text_encoder').map((l) => [l.prefix, l.up])).toEqual(text.map((l) => [l.prefix, l.up]));
    }
    await expect(engine.train({ runId: 'run-te-ti', options: { ...te, method: 'ti' }, images }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('textEncoderLora') });
  });

  it('a diverging run (learning rate 1e4) stops with TrainingDiverged naming the step, answers no concept, keeps a finite checkpoint it resumes from at a lower rate', async () => {
    const before = tf.memory().numTensors;
    const huge = { ...options, steps: 5, tiLearningRate: 1e4, loraLearningRate: 1e4 }; // losses 1.20, 1.12, then NaN
    const losses: number[] = [];
    const failed = await engine.train({ runId: 'run-nan', options: huge, images, checkpointEvery: 1, preview: null }, jobContext((p) => losses.push(p.training!.loss))).catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: 'TrainingDiverged', message: expect.stringMatching(/^Training diverged at step \d+: lower the learning rate\.$/) });
    const at = Number(/step (\d+)/.exec((failed as Error).message)![1]);
    expect(losses.length).toBeLessThanOrEqual(at); // no progress of a non-finite loss
    expect(losses.every(Number.isFinite)).toBe(true);
    const kept = (await store.get('run-nan'))!;
    // a checkpoint is kept once the step from it had a finite loss: not the one the divergence came from
    expect(kept.step).toBeLessThan(at);
    expect(losses.length).toBeGreaterThan(kept.step);
    expect([...kept.tensors, ...kept.moments].every((t) => t.data.every(Number.isFinite))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);

    const lower = { tiLearningRate: 5e-3, loraLearningRate: 1e-4 };
    const done = await engine.train({ runId: 'run-nan', options: huge, images, resume: true, rates: lower, preview: null }, jobContext());
    expect(done).toMatchObject({ outcome: 'done', step: 5 });
    expect((await store.get('run-nan'))!.config).toMatchObject(lower);
    const concept = done.outcome === 'done' ? done.concept : null;
    expect(concept!.embedding!.vectors.every(Number.isFinite)).toBe(true);
    expect(concept!.lora!.layers.every((l) => l.up.every(Number.isFinite) && l.down.every(Number.isFinite))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cancels a run and the engine stays usable for generation', async () => {
    const controller = new AbortController();
    await expect(
      engine.train({ runId: 'run-2', options: { ...options, steps: 20 }, images }, jobContext((p) => p.training!.step === 1 && controller.abort(), controller.signal)),
    ).rejects.toMatchObject({ name: 'Cancelled' });
    const image = await engine.generate({ prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 1 }, jobContext());
    expect(image.images).toHaveLength(1);
  });
});
