import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { Engine } from './engine';
import { jobContext, loadTinyModel } from '../test/engine';
import type { ConceptWeights, FeatureModelSource, Progress } from './protocol';
import { MemoryCache } from '../model/sources/cache';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { nodeBuiltinSource, nodeFolderSource } from '../model/sources/node-folder';
import { randomNormal } from '../common/random';
import { openSessions } from '../features/feature-models';
import { refusedFetchCount } from '../features/transformers-runtime';
import { CLIP_TINY, DINO_TINY, goldenImages } from '../test/feature-fixtures';
import { EVALUATION_TEMPLATES } from '../features/evaluation-set';
import { IDBFactory } from 'fake-indexeddb';
import { IndexedDbConceptStore } from '../library/concept-store';

const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
const FOLDERS: FeatureModelSource = { kind: 'folder', clip: CLIP_TINY, dino: DINO_TINY };
const concept: ConceptWeights = { token: '<my-cat>', classWord: 'cat', embedding: { nVectors: 1, dim: 32, vectors: randomNormal(32, 7, 0.5) }, lora: null, loraStrength: 1 };
const SMALL = { seeds: [1], steps: 1, size: 32 };

describe('Engine: evaluating a concept with the tiny feature models', () => {
  let engine: Engine;
  const fetches: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    engine = new Engine(gpu, () => {}, async () => new MemoryCache(), new MemoryCheckpointStore(), async () => nodeBuiltinSource(), {}, (root) => nodeFolderSource(root));
    await loadTinyModel(engine);
    globalThis.fetch = (async (input: unknown) => {
      fetches.push(String(input));
      throw new Error('no network in this test');
    }) as typeof fetch;
  });
  afterAll(() => {
    globalThis.fetch = realFetch;
  });

  it('gives finite scores and a baseline with the settings, leaks no tensors, releases its sessions, asks no network', async () => {
    const tensors = tf.memory().numTensors;
    const refused = refusedFetchCount();
    const progress: Progress[] = [];
    const result = await engine.evaluateConcept({ concept, photos: goldenImages(), source: FOLDERS, ...SMALL }, jobContext((p) => progress.push(p)));

    for (const s of [result.scores, result.baseline]) {
      for (const v of [s.clipI, s.clipT, s.dino]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
      }
    }
    expect(result.scores).not.toEqual(result.baseline); // the concept changed the images
    expect(result.reading).toMatch(/identity|overfit/);
    expect(result.settings).toEqual({
      model: engine.modelInfo()!.name, steps: 1, size: 32, seeds: [1],
      prompts: EVALUATION_TEMPLATES.map((t) => t.template.replace('{}', '<my-cat>')),
      featureModels: [CLIP_TINY, DINO_TINY],
    });
    expect(result.images).toHaveLength(2 * EVALUATION_TEMPLATES.length);
    expect(result.images.filter((im) => im.baseline).map((im) => im.prompt)).toEqual(EVALUATION_TEMPLATES.map((t) => t.template.replace('{}', 'cat')));
    expect(result.images.every((im) => im.image.width === 32 && im.image.height === 32)).toBe(true);
    expect(result.evaluatedAt).toBeGreaterThan(0);

    const labels = progress.map((p) => p.label);
    expect(labels).toContain('Evaluation image 8/8, step 1/1');
    expect(labels).toEqual(expect.arrayContaining(['Scoring: CLIP', 'Scoring: DINO']));
    const fractions = progress.map((p) => p.fraction ?? 0);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    expect(tf.memory().numTensors).toBe(tensors);
    expect(openSessions()).toBe(0);
    expect(fetches).toEqual([]);
    expect(refusedFetchCount()).toBe(refused);

    // kept with the concept in the library, as the page does with the result
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put({ id: 'c1', token: concept.token, classWord: 'cat', kind: 'object', origin: 'trained', baseModel: 'tiny-sd', created: 1, steps: 10, embedding: concept.embedding, lora: null, loraStrength: 1, photos: [] });
    await store.addEvaluation('c1', result);
    const [summary] = (await store.list()).concepts;
    expect(summary.evaluation).toEqual({ scores: result.scores, baseline: result.baseline, reading: result.reading, evaluatedAt: result.evaluatedAt });
    expect((await store.get('c1'))!.evaluations![0].settings).toEqual(result.settings);
  });

  it('suggests class words from the photos and tells whether they look like one subject', async () => {
    const s = await engine.suggestClassWords({ photos: goldenImages(), source: FOLDERS }, jobContext());
    expect(s.classes).toHaveLength(3);
    expect(s.classes[0].score).toBeGreaterThanOrEqual(s.classes[2].score);
    expect(s.coherence).toBeCloseTo((0.2968 + 0.7733 + 0.8106) / 3, 3); // the golden CLIP-I pairs
    expect(s.mixed).toBe(true);
    expect(openSessions()).toBe(0);
  });

  it('cancel stops the evaluation, leaks nothing and closes no session it left open', async () => {
    const tensors = tf.memory().numTensors;
    const abort = new AbortController();
    const run = engine.evaluateConcept({ concept, photos: goldenImages(), source: FOLDERS, ...SMALL }, jobContext((p) => p.label.startsWith('Evaluation image 2/') && abort.abort(), abort.signal));
    await expect(run).rejects.toMatchObject({ name: 'Cancelled' });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(openSessions()).toBe(0);
  });

  it('refuses a concept without a class word, and photos none', async () => {
    await expect(engine.evaluateConcept({ concept: { ...concept, classWord: ' ' }, photos: goldenImages(), source: FOLDERS, ...SMALL }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest' });
    await expect(engine.evaluateConcept({ concept, photos: [], source: FOLDERS, ...SMALL }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest' });
    expect(openSessions()).toBe(0);
  });
});
