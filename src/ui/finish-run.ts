/**
 * Finishing a training run, in the order that keeps it safe: its concept (with the run's photos and crops)
 * into the library, then its run record goes, then the engine's checkpoints (best effort). The
 * library put is the one failure point: when it fails, the record and the checkpoint stay and
 * the studio offers the run again (resuming a finished run answers at once with its concept).
 * The concept takes the run's id, so finishing a run twice replaces it instead of adding a copy,
 * and the run's loss curve (at most 2,000 points of it) for the library card.
 */
import type { ConceptData } from '../engine/protocol';
import type { ConceptStore } from '../library/concept-store';
import { downsampleCurve } from '../library/loss-curve';
import type { RunStore, TrainingRun } from '../library/run-store';

export interface RunFinishing {
  concepts: Pick<ConceptStore, 'put'>;
  runs: Pick<RunStore, 'delete'>;
  /** Asks the engine to forget the run's checkpoints. */
  dropCheckpoints: (runId: string) => Promise<unknown>;
}

/** Puts the run's concept in the library and forgets the run; the concept's id. */
export async function finishRun(run: TrainingRun, concept: ConceptData, to: RunFinishing): Promise<string> {
  const id = run.runId;
  await to.concepts.put({ ...concept, id, photos: run.photos, ...(run.crops && { crops: run.crops }), loraStrength: 1, ...(run.losses && { lossCurve: downsampleCurve(run.losses) }) });
  // A record left behind only offers the run again; finishing it again replaces the same concept.
  await to.runs.delete(run.runId).catch(() => undefined);
  await to.dropCheckpoints(run.runId).catch(() => undefined);
  return id;
}
