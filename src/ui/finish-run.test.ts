import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { conceptFromCheckpoint } from '../engine/concept-files';
import { Engine } from '../engine/engine';
import { IndexedDbConceptStore } from '../library/concept-store';
import { IndexedDbRunStore, type TrainingRun } from '../library/run-store';
import { CHECKPOINT_VERSION, type Checkpoint } from '../train/checkpoint';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { resolveTrainerConfig } from '../train/config';
import { finishRun, type RunFinishing } from './finish-run';

const options = { method: 'ti' as const, token: '<my-cat>', classWord: 'cat', steps: 4, resolution: 64 };

const checkpoint: Checkpoint = {
  version: CHECKPOINT_VERSION,
  model: 'hf:fixtures/tiny-sd@main',
  config: resolveTrainerConfig(options),
  step: 4,
  rngState: 1,
  smoothedLoss: 0.5,
  tensors: [{ key: 'ti.vectors', shape: [1, 2], data: new Float32Array([1, 2]) }],
  moments: [{ key: 'ti.vectors', shape: [2, 2], data: new Float32Array(4) }],
  created: 1000,
};

const run: TrainingRun = {
  runId: 'run-1',
  options,
  photos: [new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' })],
  modelId: checkpoint.model,
  state: 'running',
  step: 4,
  steps: 4,
  updated: 1000,
};

/** The page's stores on a fresh IndexedDB, and an engine (no GPU needed to forget a run) holding the run's checkpoint. */
async function studio() {
  const factory = new IDBFactory();
  const concepts = new IndexedDbConceptStore(factory);
  const runs = new IndexedDbRunStore(factory);
  const checkpoints = new MemoryCheckpointStore();
  const engine = new Engine(undefined, () => {}, async () => null, checkpoints);
  await runs.put(run);
  await checkpoints.put(run.runId, checkpoint);
  const finishing: RunFinishing = { concepts, runs, dropCheckpoints: (runId) => engine.deleteRun({ runId }) };
  return { concepts, runs, checkpoints, finishing };
}

describe('finishing a training run', () => {
  it("keeps the run's loss curve with its concept, at most 2,000 points of it", async () => {
    const { concepts, finishing } = await studio();
    const n = 5000;
    const losses = { steps: Uint32Array.from({ length: n }, (_, i) => i + 1), loss: new Float32Array(n).fill(0.25), smoothed: new Float32Array(n).fill(0.5), lr: new Float32Array(n).fill(1e-3) };
    const id = await finishRun({ ...run, losses }, conceptFromCheckpoint(checkpoint, run.runId), finishing);
    const curve = (await concepts.get(id))!.lossCurve!;
    expect(curve.steps.length).toBe(2000);
    expect([curve.steps[0], curve.steps[1999], curve.loss[0]]).toEqual([1, n, 0.25]);
  });

  it('puts its concept in the library with the photos, then forgets the run record and the checkpoints', async () => {
    const { concepts, runs, checkpoints, finishing } = await studio();
    const id = await finishRun(run, conceptFromCheckpoint(checkpoint, run.runId), finishing);
    const saved = await concepts.get(id);
    expect(saved).toMatchObject({ token: '<my-cat>', origin: 'trained', steps: 4, runId: 'run-1', loraStrength: 1 });
    expect(saved!.photos).toHaveLength(1);
    expect(await runs.get(run.runId)).toBeNull();
    expect(await checkpoints.get(run.runId)).toBeNull();
  });

  it("keeps the run's photo crops with its concept", async () => {
    const { concepts, finishing } = await studio();
    const id = await finishRun({ ...run, crops: [{ x: 0, y: 0.5, size: 0.75 }] }, conceptFromCheckpoint(checkpoint, run.runId), finishing);
    expect((await concepts.get(id))?.crops).toEqual([{ x: 0, y: 0.5, size: 0.75 }]);
  });

  it('leaves the run resumable when the library refuses the concept, and finishes it once on the next try', async () => {
    const { concepts, runs, checkpoints, finishing } = await studio();
    const concept = conceptFromCheckpoint(checkpoint, run.runId);
    await concepts.put({ ...concept, id: 'other', photos: [], loraStrength: 1 }); // the token is taken
    await expect(finishRun(run, concept, finishing)).rejects.toMatchObject({ name: 'ConceptTokenTaken' });
    expect(await runs.latest()).toMatchObject({ runId: 'run-1' });
    expect((await checkpoints.get(run.runId))?.step).toBe(4);

    await concepts.delete('other');
    await runs.put(run); // as if deleting the record had failed: finishing again replaces, not copies
    await finishRun(run, concept, finishing);
    await finishRun(run, concept, finishing);
    expect((await concepts.list()).concepts.map((c) => c.token)).toEqual(['<my-cat>']);
    expect(await runs.latest()).toBeNull();
  });
});
