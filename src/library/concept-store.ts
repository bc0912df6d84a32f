/**
 * Where the library's concepts are kept: a `ConceptStore` interface and its IndexedDB adapter.
 * Every record read back goes through `restoreConcept`; `list()` reports records it cannot read
 * instead of hiding them. Tokens are unique across the library (`ConceptTokenTaken`) and valid
 * beside each other (`TokenInvalid`) when saved or renamed; every write is one transaction: a
 * refused or failed write changes nothing.
 */
import { StudioError } from '../common/errors';
import { validateToken } from '../model/prompt-tokens';
import { abort, done, request, storageError } from '../storage/idb';
import type { Concept } from './concept';
import { withEvaluation, type EvaluationRecord } from './evaluation';
import { CONCEPT_VERSION, readSummary, restoreConcept, storedConcept, summarizeConcept, type ConceptSummary, type StoredConcept } from './concept-record';
import type { Database } from '../storage/database';
import { CONCEPT_SUMMARIES, CONCEPTS, libraryDb, TOKEN_INDEX } from './db';

/** A stored record `list()` could not read, shown so the user can delete it. */
export interface UnreadableConcept {
  id: string;
  reason: string;
}

export interface ConceptListing {
  /** Newest first. */
  concepts: ConceptSummary[];
  unreadable: UnreadableConcept[];
}

/** Small edits `update()` makes in place. */
export type ConceptChange = Partial<Pick<Concept, 'token' | 'classWord' | 'kind' | 'baseModel' | 'loraStrength' | 'textEncoderStrength'>> & {
  /** A Perfusion concept's gate bias at generation (`perfusion.gateBias`); ignored by other concepts. */
  gateBias?: number;
};
const CHANGEABLE = ['token', 'classWord', 'kind', 'baseModel', 'loraStrength', 'textEncoderStrength'] as const satisfies readonly (keyof ConceptChange)[];

/** The concept with `change` made. */
export function applyConceptChange(current: Concept, change: ConceptChange): Concept {
  const edits = Object.fromEntries(CHANGEABLE.filter((k) => change[k] !== undefined).map((k) => [k, change[k]])) as ConceptChange;
  const next: Concept = { ...current, ...edits };
  if (change.gateBias !== undefined && next.perfusion) next.perfusion = { ...next.perfusion, gateBias: change.gateBias };
  return next;
}

export interface ConceptStore {
  /** Summaries of every concept, newest first, and the records that cannot be read. */
  list(): Promise<ConceptListing>;
  /** The concept, or null when there is none under `id`; `ConceptUnreadable` when it cannot be read. */
  get(id: string): Promise<Concept | null>;
  /** Inserts or replaces (by id); `ConceptTokenTaken` when another concept has its token. */
  put(concept: Concept): Promise<void>;
  delete(id: string): Promise<void>;
  /** Applies `change` in one transaction and returns the concept as saved, or null when there is none under `id`. */
  update(id: string, change: ConceptChange): Promise<Concept | null>;
  /** Keeps an evaluation with the concept (its latest, and in its history), in one transaction; null when there is none under `id`. */
  addEvaluation(id: string, evaluation: EvaluationRecord): Promise<Concept | null>;
}

function tokenTaken(token: string | null): StudioError {
  const which = token === null ? 'this token' : `the token '${token}'`;
  return new StudioError('ConceptTokenTaken', `Another concept of the library already uses ${which}.`);
}

function newestFirst(a: ConceptSummary, b: ConceptSummary): number {
  return b.created - a.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Concepts in the browser's IndexedDB (database 'diffusion-studio-library'). */
export class IndexedDbConceptStore implements ConceptStore {
  private readonly db: Database;

  constructor(factory: IDBFactory | undefined = globalThis.indexedDB) {
    this.db = libraryDb(factory);
  }

  async list(): Promise<ConceptListing> {
    let keys: IDBValidKey[];
    let summaryKeys: IDBValidKey[];
    let summaries: unknown[];
    try {
      const tx = await this.db.transaction([CONCEPTS, CONCEPT_SUMMARIES]);
      const store = tx.objectStore(CONCEPT_SUMMARIES);
      [keys, summaryKeys, summaries] = await Promise.all([request(tx.objectStore(CONCEPTS).getAllKeys()), request(store.getAllKeys()), request(store.getAll())]);
    } catch (error) {
      throw storageError(error, 'list the library');
    }
    const summaryById = new Map(summaryKeys.map((k, i) => [String(k), summaries[i]]));
    const concepts: ConceptSummary[] = [];
    const unreadableConcepts: UnreadableConcept[] = [];
    const unsummarized: string[] = [];
    for (const key of keys) {
      const id = String(key);
      const summary = readSummary(summaryById.get(id), id);
      if (summary) concepts.push(summary);
      else unsummarized.push(id);
      summaryById.delete(id);
    }
    for (const id of summaryById.keys()) unreadableConcepts.push({ id, reason: 'This concept cannot be read: its data is missing.' });
    // Records without a readable summary: read them whole.
    for (const id of unsummarized) {
      try {
        const concept = await this.get(id);
        if (concept) concepts.push(summarizeConcept(concept));
      } catch (error) {
        if (!(error instanceof StudioError) || error.name !== 'ConceptUnreadable') throw error;
        unreadableConcepts.push({ id, reason: error.message });
      }
    }
    return { concepts: concepts.sort(newestFirst), unreadable: unreadableConcepts };
  }

  async get(id: string): Promise<Concept | null> {
    let raw: unknown;
    try {
      raw = await request((await this.db.transaction(CONCEPTS)).objectStore(CONCEPTS).get(id));
    } catch (error) {
      throw storageError(error, `read concept '${id}'`);
    }
    return raw === undefined ? null : restoreConcept(raw);
  }

  async put(concept: Concept): Promise<void> {
    const record = storedConcept(concept);
    await this.write(`save concept '${concept.token}'`, async (tx) => {
      await claimToken(tx, record.token, record.id);
      save(tx, record);
    });
  }

  async update(id: string, change: ConceptChange): Promise<Concept | null> {
    return this.write(`update concept '${id}'`, async (tx) => {
      const raw = await request(tx.objectStore(CONCEPTS).get(id));
      if (raw === undefined) return null;
      const current = restoreConcept(raw);
      const next = applyConceptChange(current, change);
      const record = storedConcept(next);
      if (record.token !== current.token) await claimToken(tx, record.token, id);
      save(tx, record);
      return next;
    });
  }

  async addEvaluation(id: string, evaluation: EvaluationRecord): Promise<Concept | null> {
    return this.write(`keep the evaluation of concept '${id}'`, async (tx) => {
      const raw = await request(tx.objectStore(CONCEPTS).get(id));
      if (raw === undefined) return null;
      const current = restoreConcept(raw);
      const { scores, baseline, reading, settings, evaluatedAt, durationMs, world } = evaluation; // not the images, if a ConceptEvaluation is given
      const next: Concept = { ...current, evaluations: withEvaluation(current.evaluations, { scores, baseline, reading, settings, evaluatedAt, durationMs, ...(world && { world }) }) };
      save(tx, storedConcept(next));
      return next;
    });
  }

  async delete(id: string): Promise<void> {
    await this.write(`delete concept '${id}'`, async (tx) => {
      tx.objectStore(CONCEPTS).delete(id);
      tx.objectStore(CONCEPT_SUMMARIES).delete(id);
    });
  }

  /** Runs `steps` in one readwrite transaction over both stores; whatever it throws aborts it. */
  private async write<T>(action: string, steps: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    let tx: IDBTransaction | null = null;
    try {
      tx = await this.db.transaction([CONCEPTS, CONCEPT_SUMMARIES], 'readwrite');
      const finished = done(tx);
      const result = await steps(tx);
      await finished;
      return result;
    } catch (error) {
      if (tx) abort(tx);
      if (error instanceof StudioError || error instanceof TypeError) throw error;
      // The unique token index refused it (a second line of defence behind `claimToken`).
      if ((error as DOMException | null)?.name === 'ConstraintError') throw tokenTaken(null);
      throw storageError(error, action);
    }
  }
}

/**
 * Refuses `token` when a concept other than `id` has it (`ConceptTokenTaken`), or when it is not
 * a valid token beside the others (`TokenInvalid`: not one word, or the same letters in another
 * case, or another concept's `<tok>_1`; prompt-tokens.ts).
 */
async function claimToken(tx: IDBTransaction, token: string, id: string): Promise<void> {
  const summaries = tx.objectStore(CONCEPT_SUMMARIES);
  const owner = await request(summaries.index(TOKEN_INDEX).getKey(token));
  if (owner !== undefined && owner !== id) throw tokenTaken(token);
  const all = (await request(summaries.getAll())) as { id?: unknown; token?: unknown }[];
  const otherTokens = all.filter((s) => s.id !== id && typeof s.token === 'string').map((s) => s.token as string);
  validateToken(token, { otherTokens });
}

function save(tx: IDBTransaction, record: StoredConcept): void {
  tx.objectStore(CONCEPTS).put(record, record.id);
  tx.objectStore(CONCEPT_SUMMARIES).put({ version: CONCEPT_VERSION, ...summarizeConcept(record) }, record.id);
}
