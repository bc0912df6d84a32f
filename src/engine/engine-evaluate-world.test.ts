/**
 * An evaluation on the built-in shapes model of a sample concept's token: the shapes world's
 * prompts are drawn too and scored by its analyzer, for the concept and the class word; the
 * tiny fixture model (not built-in) with the same token gets none.
 */
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
import { CLIP_TINY, DINO_TINY } from '../test/feature-fixtures';
import { EVALUATION_TEMPLATES } from '../features/evaluation-set';
import { BUILTIN_MODEL_ID } from '../model/sources/builtin';
import { conceptPhotos, sampleConcept } from '../world/sample-concepts';
import { editPrompts, FIDELITY_PROMPT, fill } from '../world/quality-prompts';

const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
const FOLDERS: FeatureModelSource = { kind: 'folder', clip: CLIP_TINY, dino: DINO_TINY };
const sample = sampleConcept('striped-ball')!;
/** A textual inversion with the sample's token (64: the built-in text encoder's width). */
const concept: ConceptWeights = { token: sample.token, classWord: sample.classWord, embedding: { nVectors: 1, dim: 64, vectors: randomNormal(64, 3, 0.3) }, lora: null, loraStrength: 1 };
const photos = conceptPhotos(sample, 2);

describe("Engine: evaluating a sample concept on the built-in model adds the shapes analyzer's scores", () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = new Engine(gpu, () => {}, async () => new MemoryCache(), new MemoryCheckpointStore(), async () => nodeBuiltinSource(), {}, (root) => nodeFolderSource(root));
    await engine.init();
    await engine.loadModel({ model: { kind: 'builtin' } }, jobContext());
  });
  afterAll(() => engine.releaseDevice());

  it('draws the fidelity and edit prompts with the token and the class word, and scores both with finite numbers', async () => {
    expect(engine.modelInfo()!.id).toBe(BUILTIN_MODEL_ID);
    const tensors = tf.memory().numTensors;
    const progress: Progress[] = [];
    const result = await engine.evaluateConcept({ concept, photos, source: FOLDERS, seeds: [1], steps: 1, size: 32 }, jobContext((p) => progress.push(p)));

    const shapes = [FIDELITY_PROMPT, ...editPrompts(sample).map((e) => e.prompt)];
    const world = result.images.filter((im) => im.world);
    expect(world.map((im) => [im.prompt, im.baseline])).toEqual([...shapes.map((t) => [fill(t, 'circle'), true]), ...shapes.map((t) => [fill(t, sample.token), false])]);
    expect(world.every((im) => im.image.width === 64 && im.image.height === 64)).toBe(true); // the world's size, whatever the evaluation's
    expect(result.images.filter((im) => !im.world).every((im) => im.image.width === 32)).toBe(true);
    expect(result.images.filter((im) => !im.world)).toHaveLength(2 * EVALUATION_TEMPLATES.length);

    expect(result.world?.sample).toBe('striped-ball');
    for (const side of [result.world!.concept, result.world!.baseline]) {
      const { fidelity, editability } = side;
      for (const v of [fidelity.fgColorDist, fidelity.maskIou, fidelity.nearestPhotoL1, fidelity.bgDist, fidelity.twoColorBalance!]) expect(Number.isFinite(v)).toBe(true);
      expect(fidelity.maskIou).toBeGreaterThanOrEqual(0);
      expect(fidelity.maskIou).toBeLessThanOrEqual(1);
      expect(Object.keys(editability).sort()).toEqual(['background', 'position', 'size']);
      for (const v of Object.values(editability)) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
    }

    const total = 2 * (EVALUATION_TEMPLATES.length + shapes.length);
    const labels = progress.map((p) => p.label);
    expect(labels).toContain(`Evaluation image ${total}/${total}, step 1/1`);
    expect(labels).toContain('Scoring: shapes analyzer');
    const fractions = progress.map((p) => p.fraction ?? 0);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(openSessions()).toBe(0);
  });

  it('gives none on the tiny fixture model, the same token notwithstanding', async () => {
    await loadTinyModel(engine);
    const tiny: ConceptWeights = { ...concept, embedding: { nVectors: 1, dim: 32, vectors: randomNormal(32, 3, 0.3) } };
    const result = await engine.evaluateConcept({ concept: tiny, photos, source: FOLDERS, seeds: [1], steps: 1, size: 32 }, jobContext());
    expect('world' in result).toBe(false);
    expect(result.images.some((im) => im.world)).toBe(false);
    expect(result.images).toHaveLength(2 * EVALUATION_TEMPLATES.length);
  });
});
