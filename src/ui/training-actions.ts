/**
 * The page's training actions. A run is recorded with its photos before it starts and kept until
 * its concept is safely in the library, so a closed tab or a lost GPU resumes from the engine's
 * last checkpoint. The photos go only to this tab's engine worker. The engine chooses the
 * checkpoint and preview cadence (`engine/training-policy.ts`); the page follows its reports.
 * A run trains in one tab at a time: the tab that holds its lock (`run-lock.ts`).
 */
import { IndexedDbRunStore, type TrainingRun } from '../library/run-store';
import type { LearningRateOptions } from '../train/config';
import type { EngineClient } from '../engine/client';
import type { ModelInfo, Progress } from '../engine/protocol';
import { checkResumeModel } from '../train/resume-model';
import { finishRun } from './finish-run';
import { hasCheckpoint, restoredTraining } from './restored-run';
import { conceptStore, notify, refreshLibrary } from './library';
import { noticeOf } from './notice';
import { photosToTensorData } from './photos';
import { cropsInOrder } from './draft-crops';
import { CENTRE_CROP } from '../library/photo-crop';
import { activeElsewhere, whileHoldingRun } from './run-lock';
import { engineClient, refreshMemory, serialize, updateDraft, useStudio, type ConceptDraft } from './store';
import { forgetLosses, lossesUntil, recordLoss, showLossesOf, showRecordedLosses } from './training-losses';

const runs = new IndexedDbRunStore();

/** On start-up: the library, and a training run the last visit left unfinished. */
export async function restoreSession(): Promise<void> {
  await refreshLibrary();
  try {
    const run = await runs.latest();
    if (run && useStudio.getState().training.state === 'idle') {
      const photos = asFiles(run.photos);
      useStudio.setState({ ...restoredTraining(run), draft: { photos, options: run.options, crops: photos.map((photo, i) => ({ photo, crop: run.crops?.[i] ?? CENTRE_CROP })) } });
      showLossesOf(run);
    }
  } catch (e) {
    notify(noticeOf(e));
  }
}

function asFiles(photos: readonly Blob[]): File[] {
  return photos.map((p, i) => (p instanceof File ? p : new File([p], `photo-${i + 1}`, { type: p.type })));
}

function newRun(draft: ConceptDraft, model: ModelInfo): TrainingRun {
  return { runId: `run-${Date.now()}`, options: draft.options, photos: draft.photos, crops: cropsInOrder(draft.crops, draft.photos), modelId: model.id, modelName: model.name, state: 'running', step: 0, steps: draft.options.steps, updated: Date.now() };
}

/**
 * Shows a run's progress in order; when the engine reports a newer checkpoint, the stored run
 * takes its step first, so what the page shows is never ahead of what a reload would offer.
 */
function runProgress(run: TrainingRun) {
  let storedStep = run.step;
  let written: Promise<unknown> = Promise.resolve();
  return {
    show(progress: Progress): void {
      if (progress.training && !progress.sample) recordLoss(progress.training);
      const at = progress.training?.checkpointStep ?? null;
      if (at !== null && at > storedStep) {
        storedStep = at;
        written = runs.update(run.runId, { step: at, losses: lossesUntil(at) }).catch(() => undefined);
      }
      void written.then(() => {
        showRecordedLosses();
        if (progress.sample) useStudio.setState((s) => ({ samples: [...s.samples, progress.sample!] }));
        useStudio.setState({ training: { state: 'running', run, progress } });
      });
    },
    /** Resolves once every report so far is shown. */
    shown: () => written.then(() => undefined),
  };
}

let training: AbortController | null = null;

/**
 * Trains the draft concept, or goes on with `run` from its last checkpoint; with `rates` (a
 * diverged run), at those rates, from the start when no checkpoint was kept (step 0).
 */
export async function train(resume?: TrainingRun, rates?: LearningRateOptions): Promise<void> {
  const client = engineClient();
  const { draft, model, library, training: before } = useStudio.getState();
  if (!client || !model) return;
  // a run that failed before its first checkpoint has nothing to go on with: a new one replaces it
  if (!resume && before.state === 'failed' && before.run && !hasCheckpoint(before.run)) await runs.delete(before.run.runId).catch(() => undefined);
  if (!resume) {
    const taken = library.concepts.find((c) => c.token === draft.options.token);
    if (taken) {
      useStudio.setState({ training: { state: 'failed', run: null, error: { name: 'InvalidRequest', message: `Your library already has ${taken.token}.`, hint: 'Choose another token, or delete that concept first.' } } });
      return;
    }
  }
  const run = resume ? { ...resume, options: { ...resume.options, ...rates } } : newRun(draft, model);
  try {
    checkResumeModel(`Run '${run.runId}'`, { id: run.modelId, name: run.modelName }, model);
  } catch (e) {
    useStudio.setState({ training: { state: 'failed', run, error: serialize(e) } });
    return;
  }
  const held = await whileHoldingRun(run.runId, () => trainHolding(client, run, resume, rates));
  if (!held) useStudio.setState({ training: { state: 'failed', run, error: activeElsewhere(run).toJSON() } });
}

/** `train`, in the tab that holds the run's lock: nothing of the run is written before. */
async function trainHolding(client: EngineClient, run: TrainingRun, resume: TrainingRun | undefined, rates: LearningRateOptions | undefined): Promise<void> {
  const controller = new AbortController();
  training = controller;
  let stored = resume !== undefined;
  run = { ...run, state: 'running', updated: Date.now() };
  useStudio.setState({ training: { state: 'running', run, progress: null }, ...(!resume && { samples: [] }) });
  showLossesOf(run);
  try {
    // Decoded before the run is stored: a photo that will not decode stores nothing.
    const images = await photosToTensorData(asFiles(run.photos), run.options.resolution, run.crops);
    await runs.put({ ...run, losses: lossesUntil(run.step) });
    stored = true;
    const progress = runProgress(run);
    const request = { runId: run.runId, options: run.options, images, resume: resume !== undefined && !(rates && run.step === 0), rates };
    // The client moves `images` to the worker (not a copy): they are empty here afterwards.
    const result = await client.request('train', request, { signal: controller.signal, onProgress: progress.show });
    await progress.shown();
    run = { ...run, step: result.step };
    if (result.outcome === 'paused') {
      // its previews and loss kept with it, so a reload shows the run as it paused
      await runs.update(run.runId, { state: 'paused', step: result.step, losses: lossesUntil(result.step), loss: result.loss, previews: useStudio.getState().samples });
      useStudio.setState({ training: { state: 'paused', run, result } });
      return;
    }
    const { concept, ...reached } = result;
    const conceptId = await finishRun({ ...run, losses: lossesUntil() }, concept, { concepts: conceptStore, runs, dropCheckpoints: (runId) => client.request('deleteRun', { runId }) });
    await refreshLibrary();
    // its photos are the concept's now: the next concept starts from none
    useStudio.setState((s) => ({ training: { state: 'done', run, result: reached, conceptId }, draft: { ...s.draft, photos: [] } }));
  } catch (e) {
    const error = serialize(e);
    if (error.name === 'Cancelled') {
      await forgetRun(run.runId);
      useStudio.setState({ training: { state: 'idle' } });
    } else {
      if (stored) await runs.update(run.runId, { state: 'failed', error }).catch(() => undefined);
      useStudio.setState({ training: { state: 'failed', run: stored ? run : null, error } });
    }
  } finally {
    if (training === controller) training = null;
    await refreshMemory();
  }
}

/** Forgets a run, unless it is training in another tab. */
export async function discardRun(run: TrainingRun): Promise<void> {
  const held = await whileHoldingRun(run.runId, () => forgetRun(run.runId));
  if (!held) useStudio.setState({ training: { state: 'failed', run, error: activeElsewhere(run).toJSON() } });
}

/** Forgets a run: its stored record and the engine's checkpoints. */
async function forgetRun(runId: string): Promise<void> {
  await runs.delete(runId).catch(() => undefined);
  await engineClient()?.request('deleteRun', { runId }).catch(() => undefined);
  const t = useStudio.getState().training;
  if (t.state !== 'running' && t.state !== 'idle' && t.run?.runId === runId) useStudio.setState({ training: { state: 'idle' } });
}

export async function pauseTraining(): Promise<void> {
  const status = useStudio.getState().training;
  if (status.state === 'running') await engineClient()?.request('pauseTraining', { runId: status.run.runId });
}

/** Stops the run and forgets it. */
export function cancelTraining(): void {
  training?.abort();
}

/** Back to the form from a run that never reached a checkpoint: the run is forgotten, its photos and settings stay in the form. */
export async function changeSettings(run: TrainingRun | null): Promise<void> {
  if (run) await discardRun(run);
  else useStudio.setState({ training: { state: 'idle' } });
}

export function startNewConcept(): void {
  updateDraft({ photos: [] });
  useStudio.setState({ training: { state: 'idle' }, samples: [] });
  forgetLosses();
}
