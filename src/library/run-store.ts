/**
 * The training run in progress, kept so that closing the tab does not lose it: its options, the
 * user's photos and how far it got (the trainer's checkpoints are kept by `src/train/checkpoint-store.ts`
 * under the run id). Records read back go through `restoreRun`, which fails loudly (`RunUnreadable`).
 */
import { resolveTrainerConfig, type TrainerOptions } from '../train/config';
import type { TrainingPreview } from '../train/previews';
import { StudioError, type SerializedError } from '../common/errors';
import { abort, done, request, storageError } from '../storage/idb';
import type { Database } from '../storage/database';
import { libraryDb, RUNS } from './db';
import { readCrops, type PhotoCrop } from './photo-crop';
import { readLossCurve, type LossCurve } from './loss-curve';

export const RUN_VERSION = 1;

export const RUN_STATES = ['running', 'paused', 'failed', 'done'] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface TrainingRun {
  runId: string;
  options: TrainerOptions;
  /** The training photos, as the user gave them. */
  photos: Blob[];
  /** Each photo's square (by index); absent (older records, or an entry) means the centred square. */
  crops?: PhotoCrop[];
  /** The model's id it trains on (`model/sources/model-id.ts`; old-style `hf:owner/name@rev`, `local:folder` in older records). */
  modelId: string;
  /** Its name; absent from records made before ids named the weights. */
  modelName?: string;
  state: RunState;
  /** Optimizer steps taken, of `steps`. */
  step: number;
  steps: number;
  /** Date.now() of the last change. */
  updated: number;
  /** Why it failed (kept with state 'failed' only), so a reload tells it as it was told. */
  error?: SerializedError;
  /** Its loss at each step up to `step` (absent in records made before the studio kept it). */
  losses?: LossCurve;
  /** The smoothed loss it paused at, so a reload tells it as it was told. */
  loss?: number;
  /** The previews it had made when it paused, oldest first. */
  previews?: TrainingPreview[];
}

/** A run as IndexedDB holds it. */
export type StoredRun = { version: typeof RUN_VERSION } & TrainingRun;

export interface UnreadableRun {
  runId: string;
  reason: string;
}

export interface RunListing {
  /** Most recently updated first. */
  runs: TrainingRun[];
  unreadable: UnreadableRun[];
}

export type RunChange = Partial<Pick<TrainingRun, 'state' | 'step' | 'updated' | 'error' | 'losses' | 'loss' | 'previews'>>;
const RUN_CHANGEABLE = ['state', 'step', 'updated', 'error', 'losses', 'loss', 'previews'] as const satisfies readonly (keyof RunChange)[];

export interface RunStore {
  /** Inserts or replaces (by run id). */
  put(run: TrainingRun): Promise<void>;
  /** The run, or null when there is none; `RunUnreadable` when it cannot be read. */
  get(runId: string): Promise<TrainingRun | null>;
  /** The most recently updated run that is not done (running, paused or failed), or null. Unreadable runs are skipped (`list()` reports them). */
  latest(): Promise<TrainingRun | null>;
  /** Sets state/step in one transaction (`updated` defaults to now); null when there is no such run. */
  update(runId: string, change: RunChange): Promise<TrainingRun | null>;
  delete(runId: string): Promise<void>;
  list(): Promise<RunListing>;
}

// ------------------------------------------------------------------------------------------------
// Versioned restore

type Raw = Record<string, unknown>;

function unreadable(why: string): StudioError {
  return new StudioError('RunUnreadable', `This training run cannot be read: ${why}.`);
}

function isCount(n: unknown, min = 0): n is number {
  return Number.isInteger(n) && (n as number) >= min;
}

/** A stored failure: the error's name, message and hint as text. */
function readError(raw: unknown): SerializedError {
  const e = raw as Partial<Record<keyof SerializedError, unknown>> | null;
  if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.message !== 'string' || typeof e.hint !== 'string') throw unreadable('its failure is not an error');
  return { name: e.name as SerializedError['name'], message: e.message, hint: e.hint };
}

/** Stored previews: each a step of the run, its prompt and an RGBA image of its size. */
function readPreviews(raw: unknown, steps: number): TrainingPreview[] {
  if (!Array.isArray(raw)) throw unreadable('its previews are not a list');
  return raw.map((p: Partial<Record<keyof TrainingPreview, unknown>> | null) => {
    const image = p?.image as Partial<Record<'width' | 'height' | 'data', unknown>> | undefined;
    const fits = image && isCount(image.width, 1) && isCount(image.height, 1) && image.data instanceof Uint8ClampedArray && image.data.length === image.width * image.height * 4;
    if (!p || !isCount(p.step) || p.step > steps || typeof p.prompt !== 'string' || !fits) throw unreadable('a preview is not an image of a step');
    return { step: p.step, prompt: p.prompt, image: { width: image.width as number, height: image.height as number, data: image.data as Uint8ClampedArray } };
  });
}

/** The run's options as stored, checked by the trainer's own validator. */
function readOptions(raw: unknown): TrainerOptions {
  if (typeof raw !== 'object' || raw === null) throw unreadable('its training options are missing');
  const options = { ...raw } as TrainerOptions;
  if (Array.isArray(options.targets)) options.targets = [...options.targets];
  try {
    resolveTrainerConfig(options);
  } catch (error) {
    throw unreadable(`its ${(error as Error).message.replace(/\.$/, '')}`);
  }
  return options;
}

/**
 * A run from anything read back from storage. Version 1 is the first format; when it changes,
 * older versions are upgraded here, one `case` each.
 */
export function restoreRun(raw: unknown): TrainingRun {
  if (typeof raw !== 'object' || raw === null) throw unreadable('it is not an object');
  const r = raw as Raw;
  switch (r.version) {
    case 1: {
      const { runId, photos, crops, modelId, modelName, state, step, steps, updated, error, losses, loss, previews } = r;
      if (typeof runId !== 'string' || runId === '') throw unreadable('it has no id');
      const options = readOptions(r.options);
      if (!Array.isArray(photos) || !photos.every((p) => p instanceof Blob)) throw unreadable('its photos are not images');
      if (typeof modelId !== 'string' || modelId === '') throw unreadable('its model is missing');
      if (!RUN_STATES.includes(state as RunState)) throw unreadable(`state ${JSON.stringify(state)} is unknown`);
      if (!isCount(steps, 1)) throw unreadable(`steps ${String(steps)} is not a positive count`);
      if (!isCount(step) || step > steps) throw unreadable(`step ${String(step)} is not a count up to ${steps}`);
      if (modelName !== undefined && typeof modelName !== 'string') throw unreadable('its model name is not text');
      if (typeof updated !== 'number' || !Number.isFinite(updated)) throw unreadable('its last change date is missing');
      const failure = state === 'failed' && error !== undefined ? readError(error) : undefined;
      const cropped = readCrops(crops, photos.length, unreadable);
      const curve = losses === undefined ? undefined : readLossCurve(losses, unreadable);
      if (loss !== undefined && typeof loss !== 'number') throw unreadable('its loss is not a number');
      const made = previews === undefined ? undefined : readPreviews(previews, steps);
      return {
        runId, options, photos: [...photos], ...(cropped && { crops: cropped }), modelId, ...(modelName !== undefined && { modelName }), state: state as RunState, step, steps, updated,
        ...(failure && { error: failure }), ...(curve && { losses: curve }), ...(loss !== undefined && { loss }), ...(made && { previews: made }),
      };
    }
    default:
      throw unreadable(`unknown version ${JSON.stringify(r.version)} (made by a newer studio?)`);
  }
}

/** The record to store; a run that could not be read back is refused with a TypeError (a programming error). */
export function storedRun(run: TrainingRun): StoredRun {
  try {
    return { version: RUN_VERSION, ...restoreRun({ ...run, version: RUN_VERSION }) };
  } catch (error) {
    throw new TypeError(`training run '${run?.runId}' cannot be saved: ${(error as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------------
// IndexedDB

/** Training runs in the browser's IndexedDB (database 'diffusion-studio-library'). */
export class IndexedDbRunStore implements RunStore {
  private readonly db: Database;

  constructor(factory: IDBFactory | undefined = globalThis.indexedDB) {
    this.db = libraryDb(factory);
  }

  async put(run: TrainingRun): Promise<void> {
    const record = storedRun(run);
    await this.write(`save training run '${run.runId}'`, async (store) => {
      store.put(record, record.runId);
    });
  }

  async get(runId: string): Promise<TrainingRun | null> {
    let raw: unknown;
    try {
      raw = await request((await this.db.transaction(RUNS)).objectStore(RUNS).get(runId));
    } catch (error) {
      throw storageError(error, `read training run '${runId}'`);
    }
    return raw === undefined ? null : restoreRun(raw);
  }

  async latest(): Promise<TrainingRun | null> {
    const { runs } = await this.list();
    return runs.find((r) => r.state !== 'done') ?? null;
  }

  async update(runId: string, change: RunChange): Promise<TrainingRun | null> {
    return this.write(`update training run '${runId}'`, async (store) => {
      const raw = await request(store.get(runId));
      if (raw === undefined) return null;
      const edits = Object.fromEntries(RUN_CHANGEABLE.filter((k) => change[k] !== undefined).map((k) => [k, change[k]])) as RunChange;
      const next: TrainingRun = { ...restoreRun(raw), updated: Date.now(), ...edits };
      const record = storedRun(next);
      store.put(record, runId);
      return restoreRun(record);
    });
  }

  async delete(runId: string): Promise<void> {
    await this.write(`delete training run '${runId}'`, async (store) => {
      store.delete(runId);
    });
  }

  async list(): Promise<RunListing> {
    let keys: IDBValidKey[];
    let records: unknown[];
    try {
      const store = (await this.db.transaction(RUNS)).objectStore(RUNS);
      [keys, records] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    } catch (error) {
      throw storageError(error, 'list training runs');
    }
    const runs: TrainingRun[] = [];
    const unreadableRuns: UnreadableRun[] = [];
    keys.forEach((key, i) => {
      try {
        const run = restoreRun(records[i]);
        if (run.runId !== String(key)) throw unreadable(`it is stored under '${String(key)}' but says '${run.runId}'`);
        runs.push(run);
      } catch (error) {
        if (!(error instanceof StudioError)) throw error;
        unreadableRuns.push({ runId: String(key), reason: error.message });
      }
    });
    return { runs: runs.sort((a, b) => b.updated - a.updated), unreadable: unreadableRuns };
  }

  /** Runs `steps` in one readwrite transaction; whatever it throws aborts it. */
  private async write<T>(action: string, steps: (store: IDBObjectStore) => Promise<T>): Promise<T> {
    let tx: IDBTransaction | null = null;
    try {
      tx = await this.db.transaction(RUNS, 'readwrite');
      const finished = done(tx);
      const result = await steps(tx.objectStore(RUNS));
      await finished;
      return result;
    } catch (error) {
      if (tx) abort(tx);
      if (error instanceof StudioError || error instanceof TypeError) throw error;
      throw storageError(error, action);
    }
  }
}
