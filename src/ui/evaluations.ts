/**
 * The page's side of concept evaluation (DreamBench-style scores) and class-word suggestions:
 * where the feature models come from, what the engine last said about them, each concept's
 * evaluation under way (asking before a download, then queued with progress and cancel), and the
 * images of this visit's evaluations (the library keeps the scores, not the images).
 */
import { create } from 'zustand';
import type { ClassSuggestion, ConceptEvaluation, EvaluationImage, FeatureModelStatus, Progress } from '../engine/protocol';
import { StudioError, type SerializedError } from '../common/errors';
import { conceptWeights } from '../library/concept';
import { conceptStore, refreshLibrary } from './library';
import { downloadQuestion, type DownloadQuestion } from './feature-download';
import type { LibraryOrder } from './evaluation-view';
import { featureSource, loadFeatureSource, saveFeatureSource, rememberedCached, rememberStatus, type FeatureSourceForm } from './feature-source';
import { photoPixels } from './photo-pixels';
import type { PhotoCrop } from '../library/photo-crop';
import { engineClient, refreshMemory, serialize, showSection } from './store';

export type EvaluationJob =
  | { state: 'checking' }
  | { state: 'asking'; question: DownloadQuestion }
  | { state: 'running'; progress: Progress | null }
  | { state: 'failed'; error: SerializedError };

interface EvaluationsState {
  source: FeatureSourceForm;
  /** What the engine last said about the feature models; null: not asked this visit. */
  statuses: FeatureModelStatus[] | null;
  /** Asking the engine about them (Models), or the error it gave. */
  check: { state: 'idle' } | { state: 'checking' } | { state: 'failed'; error: SerializedError };
  /** By concept id. */
  jobs: Record<string, EvaluationJob>;
  /** This visit's latest evaluation images, by concept id. */
  images: Record<string, EvaluationImage[]>;
  /** The library's order. */
  order: LibraryOrder;
}

export const useEvaluations = create<EvaluationsState>(() => ({
  source: loadFeatureSource(),
  statuses: null,
  check: { state: 'idle' },
  jobs: {},
  images: {},
  order: 'newest',
}));

export function setLibraryOrder(order: LibraryOrder): void {
  useEvaluations.setState({ order });
}

const controllers = new Map<string, AbortController>();

function setJob(id: string, job: EvaluationJob | null): void {
  useEvaluations.setState((s) => {
    const jobs = { ...s.jobs };
    if (job) jobs[id] = job;
    else delete jobs[id];
    return { jobs };
  });
}

export function updateFeatureSource(change: Partial<FeatureSourceForm>): void {
  useEvaluations.setState((s) => ({ source: { ...s.source, ...change }, statuses: null }));
  saveFeatureSource(useEvaluations.getState().source);
}

/** Asks the engine about the feature models (sizes; the hub is asked for those not downloaded). */
export async function checkFeatureModels(): Promise<FeatureModelStatus[] | null> {
  const client = engineClient();
  if (!client) return null;
  const { source } = useEvaluations.getState();
  useEvaluations.setState({ check: { state: 'checking' } });
  try {
    const statuses = await client.request('featureModels', { source: featureSource(source) });
    rememberStatus(source, statuses);
    useEvaluations.setState({ statuses, check: { state: 'idle' } });
    return statuses;
  } catch (e) {
    useEvaluations.setState({ check: { state: 'failed', error: serialize(e) } });
    return null;
  }
}

/** The sizes of models already in the browser, without reaching the hub (nothing when none are). */
export async function refreshCachedFeatureModels(): Promise<void> {
  const { source, statuses } = useEvaluations.getState();
  if (statuses === null && rememberedCached(source)) await checkFeatureModels();
}

/** Deletes the downloaded feature models. */
export async function removeFeatureModels(): Promise<void> {
  const client = engineClient();
  if (!client) return;
  try {
    const { source } = useEvaluations.getState();
    await client.request('deleteFeatureModels', { source: featureSource(source) });
    rememberStatus(source, []);
    useEvaluations.setState((s) => ({ statuses: s.statuses?.map((m) => ({ ...m, cached: false })) ?? null, check: { state: 'idle' } }));
  } catch (e) {
    useEvaluations.setState({ check: { state: 'failed', error: serialize(e) } });
  }
}

/** What an evaluation compares with: the class word of the baseline, and photos for a concept that keeps none (imported). */
export interface EvaluationInput {
  classWord: string;
  /** null: the concept's own training photos. */
  photos: readonly File[] | null;
  /** Denoising steps of each image; absent: the engine's default. */
  steps?: number;
  /** Image side in pixels; absent: the model's own size. */
  size?: number;
  /** Seeds of each prompt; absent: the engine's two. */
  seeds?: number[];
}

const inputs = new Map<string, EvaluationInput>();

/** Evaluate: asks first when the feature models still have to download, else queues the evaluation. */
export async function evaluateConcept(conceptId: string, input: EvaluationInput): Promise<void> {
  const client = engineClient();
  if (!client) return;
  inputs.set(conceptId, input);
  setJob(conceptId, { state: 'checking' });
  try {
    const { source } = useEvaluations.getState();
    const statuses = await client.request('featureModels', { source: featureSource(source) });
    rememberStatus(source, statuses);
    useEvaluations.setState({ statuses });
    const question = downloadQuestion(statuses);
    if (question) setJob(conceptId, { state: 'asking', question });
    else await runEvaluation(conceptId);
  } catch (e) {
    setJob(conceptId, { state: 'failed', error: serialize(e) });
  }
}

/** "Evaluate this concept" when training finishes: its card in the Library shows the question or the progress. */
export function evaluateTrained(conceptId: string, classWord: string): void {
  showSection('library');
  void evaluateConcept(conceptId, { classWord, photos: null });
}

/** The person agreed to the download: evaluate (the engine downloads first). */
export function confirmDownload(conceptId: string): Promise<void> {
  return runEvaluation(conceptId);
}

/** Cancels an evaluation, or the question before one. */
export function cancelEvaluation(conceptId: string): void {
  const controller = controllers.get(conceptId);
  if (controller) controller.abort();
  else setJob(conceptId, null);
  inputs.delete(conceptId);
}

async function runEvaluation(conceptId: string): Promise<void> {
  const client = engineClient();
  const input = inputs.get(conceptId);
  if (!client || !input) return;
  const controller = new AbortController();
  controllers.set(conceptId, controller);
  setJob(conceptId, { state: 'running', progress: null });
  try {
    const concept = await conceptStore.get(conceptId);
    if (!concept) throw new StudioError('ConceptUnreadable', 'This concept is no longer in the library.');
    const classWord = input.classWord.trim();
    if (classWord !== concept.classWord) await conceptStore.update(conceptId, { classWord });
    const photos = await Promise.all((input.photos ?? concept.photos).map((p) => photoPixels(p)));
    const { source } = useEvaluations.getState();
    const evaluation: ConceptEvaluation = await client.request(
      'evaluateConcept',
      { concept: { ...conceptWeights(concept), classWord }, photos, source: featureSource(source), ...(input.steps !== undefined && { steps: input.steps }), ...(input.size !== undefined && { size: input.size }), ...(input.seeds !== undefined && { seeds: input.seeds }) },
      { signal: controller.signal, onProgress: (progress) => setJob(conceptId, { state: 'running', progress }) },
    );
    const { images, ...record } = evaluation;
    await conceptStore.addEvaluation(conceptId, record);
    useEvaluations.setState((s) => ({ images: { ...s.images, [conceptId]: images } }));
    setJob(conceptId, null);
    rememberStatus(source, (useEvaluations.getState().statuses ?? []).map((m) => ({ ...m, cached: true })));
    useEvaluations.setState((s) => ({ statuses: s.statuses?.map((m) => ({ ...m, cached: true })) ?? null }));
    await refreshLibrary();
  } catch (e) {
    const error = serialize(e);
    setJob(conceptId, error.name === 'Cancelled' ? null : { state: 'failed', error });
  } finally {
    controllers.delete(conceptId);
    inputs.delete(conceptId);
    await refreshMemory();
  }
}

/** Class words for the draft's photos: the offer to download (once), the question, the chips, or why not. */
export type SuggestionState =
  | { state: 'none' }
  | { state: 'offer' }
  | { state: 'checking' }
  | { state: 'asking'; question: DownloadQuestion }
  | { state: 'suggesting' }
  | { state: 'done'; suggestion: ClassSuggestion; photos: readonly File[] }
  | { state: 'failed'; error: SerializedError };

const DECLINED_KEY = 'diffusion-studio:class-words-declined';

export const useSuggestion = create<{ suggestion: SuggestionState }>(() => ({ suggestion: { state: 'none' } }));

const setSuggestion = (suggestion: SuggestionState) => useSuggestion.setState({ suggestion });

function declined(): boolean {
  try {
    return globalThis.localStorage?.getItem(DECLINED_KEY) === '1';
  } catch {
    return false;
  }
}

/**
 * New photos in the draft: with the feature models in the browser, suggest at once; else offer
 * the download (until the person says no thanks), never downloading unasked.
 */
export async function photosChanged(photos: readonly File[], crops: readonly (PhotoCrop | undefined)[]): Promise<void> {
  const current = useSuggestion.getState().suggestion;
  if (photos.length === 0) return setSuggestion({ state: 'none' });
  if (current.state === 'done' && sameFiles(current.photos, photos)) return;
  if (current.state === 'suggesting' || current.state === 'checking' || current.state === 'asking') return;
  if (rememberedCached(useEvaluations.getState().source)) await suggestClassWords(photos, crops);
  else setSuggestion(declined() ? { state: 'none' } : { state: 'offer' });
}

/** "Suggest": asks the size first when the models must download. */
export async function offerAccepted(photos: readonly File[], crops: readonly (PhotoCrop | undefined)[]): Promise<void> {
  setSuggestion({ state: 'checking' });
  const statuses = await checkFeatureModels();
  const question = statuses && downloadQuestion(statuses);
  if (!statuses) setSuggestion({ state: 'failed', error: (useEvaluations.getState().check as { error: SerializedError }).error });
  else if (question) setSuggestion({ state: 'asking', question });
  else await suggestClassWords(photos, crops);
}

/** No class words from the photos: not offered again. */
export function declineSuggestions(): void {
  try {
    globalThis.localStorage?.setItem(DECLINED_KEY, '1');
  } catch {
    // offered again next visit
  }
  setSuggestion({ state: 'none' });
}

/** `download`: the person agreed to fetch the CLIP model if it is not in the browser. */
export async function suggestClassWords(photos: readonly File[], crops: readonly (PhotoCrop | undefined)[], download = false): Promise<void> {
  const client = engineClient();
  if (!client) return;
  setSuggestion({ state: 'suggesting' });
  try {
    const pixels = await Promise.all(photos.map((p, i) => photoPixels(p, undefined, crops[i])));
    const { source } = useEvaluations.getState();
    const suggestion = await client.request('suggestClassWords', { photos: pixels, source: featureSource(source), download });
    setSuggestion({ state: 'done', suggestion, photos });
    // what the download left in the browser (the person asked already: the hub may be asked)
    if (useEvaluations.getState().statuses !== null) await checkFeatureModels();
  } catch (e) {
    setSuggestion({ state: 'failed', error: serialize(e) });
  } finally {
    await refreshMemory();
  }
}

function sameFiles(a: readonly File[], b: readonly File[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}
