import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Concept } from './concept';
import { restoreConcept } from './concept-record';
import { IndexedDbConceptStore } from './concept-store';
import { MAX_EVALUATIONS, type EvaluationRecord } from './evaluation';

function concept(over: Partial<Concept> = {}): Concept {
  return {
    id: 'c1', token: '<my-dog>', classWord: 'dog', kind: 'object', origin: 'trained', baseModel: 'tiny-sd', created: 1000, steps: 50,
    embedding: { nVectors: 1, dim: 2, vectors: Float32Array.of(0.5, -0.5) }, lora: null, loraStrength: 1,
    photos: [new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' })],
    ...over,
  };
}

function evaluation(dino: number, evaluatedAt = 2000): EvaluationRecord {
  return {
    scores: { clipI: 0.8, clipT: 0.3, dino },
    baseline: { clipI: 0.7, clipT: 0.31, dino: 0.4 },
    reading: 'identity well above the class word; prompts still followed',
    settings: { model: 'tiny-sd', steps: 20, size: 256, seeds: [1, 2], prompts: ['a photo of a <my-dog> on the beach'], featureModels: ['Xenova/clip-vit-base-patch32', 'Xenova/dinov2-small'] },
    evaluatedAt,
    durationMs: 1234,
  };
}

/** The shapes analyzer's part, as an evaluation on the built-in model with a two-colour sample concept gives it. */
const world: NonNullable<EvaluationRecord['world']> = {
  sample: 'striped-ball',
  concept: { fidelity: { fgColorDist: 21.9, maskIou: 0.81, nearestPhotoL1: 6.2, bgDist: 3.5, twoColorBalance: 0.7 }, editability: { position: 0.5, background: 1, size: 0 } },
  baseline: { fidelity: { fgColorDist: 140.2, maskIou: 0.6, nearestPhotoL1: 30.1, bgDist: 90, twoColorBalance: 0 }, editability: { position: 1, background: 1, size: 0.5 } },
};

describe("a concept's evaluations", () => {
  it('are kept with the concept, the latest in its summary for sorting, through other updates', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    await store.addEvaluation('c1', evaluation(0.5, 2000));
    const after = await store.addEvaluation('c1', evaluation(0.6, 3000));
    expect(after?.evaluations?.map((e) => e.scores.dino)).toEqual([0.5, 0.6]);
    expect((await store.get('c1'))?.evaluations).toEqual([evaluation(0.5, 2000), evaluation(0.6, 3000)]);
    const [summary] = (await store.list()).concepts;
    expect(summary.evaluation).toEqual({ scores: evaluation(0.6).scores, baseline: evaluation(0.6).baseline, reading: evaluation(0.6).reading, evaluatedAt: 3000 });
    expect(summary.evaluationCount).toBe(2);
    expect((await store.update('c1', { loraStrength: 0.5 }))?.evaluations).toHaveLength(2);
  });

  it('keep no images even when given a whole ConceptEvaluation', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    const withImages = { ...evaluation(0.5), images: [{ prompt: 'p', seed: 1, baseline: false, image: { width: 1, height: 1, data: new Uint8ClampedArray(4) } }] };
    await store.addEvaluation('c1', withImages);
    expect(Object.keys((await store.get('c1'))!.evaluations![0])).not.toContain('images');
  });

  it(`keep the newest ${MAX_EVALUATIONS}`, async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    for (let i = 0; i < MAX_EVALUATIONS + 2; i++) await store.addEvaluation('c1', evaluation(i / 100, i));
    const kept = (await store.get('c1'))!.evaluations!;
    expect(kept).toHaveLength(MAX_EVALUATIONS);
    expect(kept[0].evaluatedAt).toBe(2);
    expect(kept.at(-1)!.evaluatedAt).toBe(MAX_EVALUATIONS + 1);
  });

  it('answer null for a concept that is not there', async () => {
    expect(await new IndexedDbConceptStore(new IDBFactory()).addEvaluation('nope', evaluation(0.5))).toBeNull();
  });

  it('are absent from older records, which still read and list', async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    expect((await store.get('c1'))!.evaluations).toBeUndefined();
    expect('evaluation' in (await store.list()).concepts[0]).toBe(false);
  });

  it('must hold finite numbers: a NaN or Infinity score makes a record unreadable and is refused on save', async () => {
    const bad = { ...evaluation(0.5), scores: { clipI: Number.NaN, clipT: 0.3, dino: 0.5 } };
    expect(() => restoreConcept({ version: 1, ...concept(), evaluations: [bad] })).toThrow('its evaluation scores are not three finite numbers');
    expect(() => restoreConcept({ version: 1, ...concept(), evaluations: [{ ...evaluation(0.5), baseline: { clipI: 1, clipT: Infinity, dino: 0 } }] })).toThrow('baseline');
    expect(() => restoreConcept({ version: 1, ...concept(), evaluations: [{ ...evaluation(0.5), settings: { ...evaluation(0.5).settings, seeds: [Number.NaN] } }] })).toThrow("settings are incomplete");
    expect(() => restoreConcept({ version: 1, ...concept(), evaluations: {} })).toThrow('its evaluations are not a list');
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    await expect(store.addEvaluation('c1', bad)).rejects.toThrow(TypeError);
    expect((await store.get('c1'))!.evaluations).toBeUndefined();
  });

  it("keep the shapes analyzer's scores when the evaluation has them, and only finite accuracies in 0..1", async () => {
    const store = new IndexedDbConceptStore(new IDBFactory());
    await store.put(concept());
    await store.addEvaluation('c1', { ...evaluation(0.5), world });
    await store.addEvaluation('c1', evaluation(0.6, 3000)); // one without (e.g. on another model), after it
    const [withWorld, without] = (await store.get('c1'))!.evaluations!;
    expect(withWorld.world).toEqual(world);
    expect('world' in without).toBe(false);

    const read = (w: unknown) => () => restoreConcept({ version: 1, ...concept(), evaluations: [{ ...evaluation(0.5), world: w }] });
    expect(read({ ...world, concept: { ...world.concept, fidelity: { ...world.concept.fidelity, maskIou: Number.NaN } } })).toThrow('fidelity scores are not finite numbers');
    expect(read({ ...world, baseline: { ...world.baseline, fidelity: { ...world.baseline.fidelity, twoColorBalance: Infinity } } })).toThrow('fidelity');
    expect(read({ ...world, concept: { ...world.concept, editability: { position: Number.NaN } } })).toThrow('editability is not finite accuracies');
    expect(read({ ...world, concept: { ...world.concept, editability: { position: 2 } } })).toThrow('editability');
    expect(read({ ...world, concept: { ...world.concept, editability: { shape: 1 } } })).toThrow('editability');
    expect(read({ concept: world.concept, baseline: world.baseline })).toThrow('name no sample concept');
    const bad = { ...evaluation(0.5), world: { ...world, concept: { ...world.concept, fidelity: { ...world.concept.fidelity, fgColorDist: Number.NaN } } } };
    await expect(store.addEvaluation('c1', bad)).rejects.toThrow(TypeError);
    expect((await store.get('c1'))!.evaluations).toHaveLength(2);
  });

  it('stored before the shapes scores existed, read without them', () => {
    const old = restoreConcept({ version: 1, ...concept(), evaluations: [evaluation(0.5)] });
    expect(old.evaluations).toEqual([evaluation(0.5)]);
    expect('world' in old.evaluations![0]).toBe(false);
  });
});
