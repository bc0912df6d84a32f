/**
 * The page's side of concepts: the library (IndexedDB, in this page) and training runs. A run is
 * recorded with its photos before it starts and kept until its concept is safely in the library,
 * so a closed tab or a lost GPU resumes from the engine's last checkpoint. Nothing here leaves
 * the device: files are read and written locally, photos go only to this tab's engine worker.
 */
import { conceptsInPrompt, conceptWeights, type Concept } from '../library/concept';
import { IndexedDbConceptStore, type ConceptChange } from '../library/concept-store';
import { IndexedDbRunStore, type TrainingRun } from '../library/run-store';
import type { ConceptExport, GenerateRequest, TrainingPreviewOptions } from '../engine/protocol';
import { noticeOf } from './notice';
import { photosToTensorData } from './photos';
import { engineClient, generate, refreshMemory, serialize, showSection, updateDraft, useStudio, type Notice } from './store';

const concepts = new IndexedDbConceptStore();
const runs = new IndexedDbRunStore();

/** Steps between engine checkpoints (and updates of the stored run): a tenth of the run, 5 to 25. */
function checkpointEvery(steps: number): number {
  return Math.min(25, Math.max(5, Math.ceil(steps / 10)));
}

function notify(notice: Notice | null): void {
  useStudio.setState((s) => ({ library: { ...s.library, notice } }));
}

export async function refreshLibrary(): Promise<void> {
  try {
    const listing = await concepts.list();
    useStudio.setState((s) => ({ library: { ...s.library, loaded: true, concepts: listing.concepts, unreadable: listing.unreadable } }));
  } catch (e) {
    useStudio.setState((s) => ({ library: { ...s.library, loaded: true, notice: noticeOf(e) } }));
  }
}

/** On start-up: the library, and a training run the last visit left unfinished. */
export async function restoreSession(): Promise<void> {
  await refreshLibrary();
  try {
    const run = await runs.latest();
    if (run && useStudio.getState().training.state === 'idle') {
      useStudio.setState({ training: { state: 'interrupted', run }, draft: { photos: asFiles(run.photos), options: run.options } });
    }
  } catch (e) {
    notify(noticeOf(e));
  }
}

function asFiles(photos: readonly Blob[]): File[] {
  return photos.map((p, i) => (p instanceof File ? p : new File([p], `photo-${i + 1}`, { type: p.type })));
}

/** Imports embedding and LoRA files; each refused file is named with why, and changes nothing. */
export async function importConceptFiles(files: readonly File[]): Promise<void> {
  const client = engineClient();
  if (!client || files.length === 0) return;
  const done: string[] = [];
  const refused: string[] = [];
  for (const file of files) {
    try {
      const data = await client.request('importConcept', { file, fileName: file.name });
      await concepts.put({ ...data, id: crypto.randomUUID(), photos: [], loraStrength: 1 });
      done.push(data.token);
    } catch (e) {
      refused.push(`${file.name}: ${serialize(e).message}`);
    }
  }
  await refreshLibrary();
  if (refused.length > 0) {
    const added = done.length > 0 ? ` Imported ${done.join(', ')}.` : '';
    notify({ tone: 'error', message: `Not imported: ${refused.join(' ')}${added}`, hint: 'The library is unchanged for the files that were refused.' });
  } else {
    notify({ tone: 'ok', message: `Imported ${done.join(', ')}.` });
  }
}

export async function deleteConcept(id: string): Promise<void> {
  try {
    await concepts.delete(id);
    notify(null);
  } catch (e) {
    notify(noticeOf(e));
  }
  await refreshLibrary();
}

export async function updateConcept(id: string, change: ConceptChange): Promise<void> {
  try {
    await concepts.update(id, change);
  } catch (e) {
    notify(noticeOf(e));
  }
  await refreshLibrary();
}

function saveFile(fileName: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Saves a library concept as a file other tools read. */
export async function downloadConcept(id: string, what: ConceptExport): Promise<void> {
  const client = engineClient();
  try {
    const concept = await concepts.get(id);
    if (!client || !concept) return;
    const { photos: _photos, id: _id, loraStrength: _strength, ...data } = concept;
    const { fileName, bytes } = await client.request('exportConcept', { concept: data, what });
    saveFile(fileName, bytes);
  } catch (e) {
    notify(noticeOf(e));
  }
}

/** Saves a paused run's concept as it is so far. */
export async function downloadRun(runId: string, what: ConceptExport): Promise<void> {
  const client = engineClient();
  try {
    if (!client) return;
    const { fileName, bytes } = await client.request('exportRun', { runId, what });
    saveFile(fileName, bytes);
  } catch (e) {
    notify(noticeOf(e));
  }
}

/** Generates with the library concepts whose tokens the prompts use. */
export async function generateWithConcepts(options: GenerateRequest): Promise<void> {
  const used = conceptsInPrompt(useStudio.getState().library.concepts, options.prompt, options.negativePrompt ?? '');
  const full = await Promise.all(used.map((c) => concepts.get(c.id)));
  await generate({ ...options, concepts: full.filter((c): c is Concept => c !== null).map(conceptWeights) });
}

/** Writes a token into the prompt box of the Generate section. */
export function putConceptInPrompt(token: string): void {
  useStudio.setState({ promptInsert: { token, at: Date.now() } });
  showSection('generate');
}

let training: AbortController | null = null;

/**
 * Trains the draft concept, or goes on with `run` from its last checkpoint. The run and its
 * photos are stored first; a finished run's concept goes to the library, then the run is dropped.
 */
export async function train(resume?: TrainingRun): Promise<void> {
  const client = engineClient();
  const { draft, model, library } = useStudio.getState();
  if (!client || !model) return;
  if (!resume) {
    const taken = library.concepts.find((c) => c.token === draft.options.token);
    if (taken) {
      useStudio.setState({ training: { state: 'failed', run: null, error: { name: 'InvalidRequest', message: `Your library already has ${taken.token}.`, hint: 'Choose another token, or delete that concept first.' } } });
      return;
    }
  }
  let run: TrainingRun = resume ?? {
    runId: `run-${Date.now()}`,
    options: { ...draft.options, gradientCheckpointing: true },
    photos: draft.photos,
    modelId: model.id,
    state: 'running',
    step: 0,
    steps: draft.options.steps,
    updated: Date.now(),
  };
  if (run.modelId !== model.id) {
    useStudio.setState({ training: { state: 'failed', run, error: { name: 'InvalidRequest', message: `This run trains ${run.modelId}; ${model.id} is loaded.`, hint: `Load ${run.modelId} in Models to resume it.` } } });
    return;
  }
  const controller = new AbortController();
  const every = checkpointEvery(run.steps);
  training = controller;
  run = { ...run, state: 'running', updated: Date.now() };
  useStudio.setState({ training: { state: 'running', run, progress: null }, ...(!resume && { samples: [] }) });
  try {
    await runs.put(run);
    const images = await photosToTensorData(asFiles(run.photos), run.options.resolution);
    const result = await client.request(
      'train',
      { runId: run.runId, options: run.options, images, resume: resume !== undefined, checkpointEvery: every, preview: previewOptions(run) },
      {
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.sample) useStudio.setState((s) => ({ samples: [...s.samples, progress.sample!] }));
          useStudio.setState({ training: { state: 'running', run, progress } });
          const step = progress.training?.step ?? 0;
          if (step % every === 0) void runs.update(run.runId, { step }).catch(() => undefined);
        },
      },
    );
    run = { ...run, step: result.step };
    if (result.outcome === 'paused') {
      await runs.update(run.runId, { state: 'paused', step: result.step });
      useStudio.setState({ training: { state: 'paused', run, result } });
      return;
    }
    const conceptId = await saveRunToLibrary(run);
    useStudio.setState({ training: { state: 'done', run, result, conceptId } });
  } catch (e) {
    const error = serialize(e);
    if (error.name === 'Cancelled') {
      await discardRun(run.runId);
      useStudio.setState({ training: { state: 'idle' } });
    } else {
      await runs.update(run.runId, { state: 'failed' }).catch(() => undefined);
      useStudio.setState({ training: { state: 'failed', run, error } });
    }
  } finally {
    if (training === controller) training = null;
    await refreshMemory();
  }
}

/** Previews about 8 times a run (10 steps apart at the least) and at the end, at the training resolution. */
function previewOptions(run: TrainingRun): TrainingPreviewOptions {
  return { every: Math.max(10, Math.ceil(run.options.steps / 8)), steps: 15, seed: 0 };
}

/** The run's concept into the library (with its photos); then its run record and checkpoints go. */
async function saveRunToLibrary(run: TrainingRun): Promise<string> {
  const client = engineClient()!;
  const data = await client.request('runConcept', { runId: run.runId });
  const id = crypto.randomUUID();
  await concepts.put({ ...data, id, photos: run.photos, loraStrength: 1 });
  await refreshLibrary();
  await discardRun(run.runId);
  return id;
}

/** Forgets a run: its stored record and the engine's checkpoints. */
export async function discardRun(runId: string): Promise<void> {
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

export function startNewConcept(): void {
  updateDraft({ photos: [] });
  useStudio.setState({ training: { state: 'idle' }, samples: [] });
}
