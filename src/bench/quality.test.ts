import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import type { Engine } from '../engine/engine';
import { sampleConcept } from '../world/sample-concepts';
import { engineWithBuiltinModel } from '../test/engine';
import { qualityTable } from './quality-table';
import { runQuality, type QualityRecord } from './quality';

/**
 * The quality benchmark's small version: one sample concept, the class-word baseline and a short
 * textual inversion, one image per prompt. It asserts that the pipeline runs end to end and
 * that the token's images move toward the concept's colour, not how far (that is the benchmark's).
 */
describe('the quality benchmark, small', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await engineWithBuiltinModel();
  });
  afterAll(() => engine.releaseDevice());

  it("trains a sample concept for a few steps and its token draws nearer the concept's colour than the class word", async () => {
    const before = tf.memory().numTensors;
    const seen: QualityRecord[] = [];
    const records = await runQuality(engine, { concepts: [sampleConcept('teal-heart')!], methods: ['baseline', 'ti'], steps: SMALL_STEPS, images: IMAGES, generationSteps: GENERATION_STEPS }, (r) => seen.push(r));
    expect(records.map((r) => [r.concept, r.method, r.steps])).toEqual([
      ['teal-heart', 'baseline', 0],
      ['teal-heart', 'ti', SMALL_STEPS],
    ]);
    expect(seen).toEqual(records);
    const [baseline, ti] = records;
    for (const r of records) {
      for (const v of [...Object.values(r.fidelity), ...Object.values(r.editability)]) expect(Number.isFinite(v)).toBe(true);
      expect(r.composition).toBeNull(); // one concept: nothing to compose with
    }
    expect(ti.fileBytes).toBeGreaterThan(0);
    expect(ti.secondsPerStep).toBeGreaterThan(0);
    console.log(`fg colour distance to teal: class word ${baseline.fidelity.fgColorDist.toFixed(1)}, token after ${SMALL_STEPS} steps ${ti.fidelity.fgColorDist.toFixed(1)}`);
    expect(ti.fidelity.fgColorDist).toBeLessThan(baseline.fidelity.fgColorDist - MARGIN);
    expect(qualityTable(records).split('\n')).toHaveLength(4);
    expect(tf.memory().numTensors).toBe(before);
  }, 600_000); // 10 training steps and two batches of 5-step images: under a minute on a software adapter
});

/** Measured: class word 242.4, token after 10 steps 135.9 (one image per prompt, 5 denoising steps); the margin leaves room. */
const SMALL_STEPS = 10;
/** One image per prompt, half the drawing: the gap stays ~100 (two images at 8 steps gave 258.6 vs 116.5). */
const IMAGES = 1;
/** Denoising steps per image (the card's 20 would quadruple the drawing for no more evidence). */
const GENERATION_STEPS = 5;
const MARGIN = 40;
