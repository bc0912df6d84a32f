/**
 * Where the library's concepts are kept: a `ConceptStore` interface and its IndexedDB adapter.
 * Every record read back goes through `restoreConcept`, which upgrades older versions and fails
 * loudly (`ConceptUnreadable`) on what it cannot read; `list()` reports such records instead of
 * hiding them. Tokens are unique across the library (`ConceptTokenTaken`), and every write is one
 * transaction: a refused or failed write changes nothing.
 */
import { CONCEPT_KINDS, type ConceptKind } from '../train/templates';
import type { Concept, ConceptEmbedding, ConceptLora, ConceptLoraLayer } from './concept';
import { abort, CONCEPT_SUMMARIES, CONCEPTS, done, lazyLibraryDb, request, TOKEN_INDEX } from './db';
import { LibraryError, storageError } from './errors';

export const CONCEPT_VERSION = 1;

/** A concept as IndexedDB holds it. */
export type StoredConcept = { version: typeof CONCEPT_VERSION } & Concept;

/** What the library list shows, read without the weights. */
export interface ConceptSummary {
  id: string;
  token: string;
  classWord: string;
  kind: ConceptKind;
  origin: Concept['origin'];
  baseModel: string;
  created: number;
  steps: number | null;
  loraStrength: number;
  /** Textual-inversion vectors (0: no embedding). */
  embeddingVectors: number;
  /** Adapted UNet layers (0: no LoRA). */
  loraLayers: number;
  photoCount: number;
  /** The first training photo, for a thumbnail. */
  cover: Blob | null;
  /** Weights and photos. */
  bytes: number;
  fileName?: string;
  runId?: string;
}

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
export type ConceptChange = Partial<Pick<Concept, 'token' | 'classWord' | 'kind' | 'baseModel' | 'loraStrength'>>;
const CHANGEABLE = ['token', 'classWord', 'kind', 'baseModel', 'loraStrength'] as const satisfies readonly (keyof ConceptChange)[];

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
}

// ------------------------------------------------------------------------------------------------
// Versioned restore

type Raw = Record<string, unknown>;

function unreadable(why: string): LibraryError {
  return new LibraryError('ConceptUnreadable', `This concept cannot be read: ${why}.`, 'Delete it, then train or import it again.');
}

function isCount(n: unknown, min = 0): n is number {
  return Number.isInteger(n) && (n as number) >= min;
}

function isShape(s: unknown): s is [number, number] {
  return Array.isArray(s) && s.length === 2 && s.every((d) => isCount(d, 1));
}

function readEmbedding(raw: unknown): ConceptEmbedding | null {
  if (raw === null) return null;
  const e = raw as Raw;
  if (typeof e !== 'object' || !isCount(e.nVectors, 1) || !isCount(e.dim, 1) || !(e.vectors instanceof Float32Array)) {
    throw unreadable('its embedding has no vectors');
  }
  if (e.vectors.length !== e.nVectors * e.dim) throw unreadable(`its embedding holds ${e.vectors.length} values for ${e.nVectors} vectors of ${e.dim}`);
  return { nVectors: e.nVectors, dim: e.dim, vectors: e.vectors };
}

function readLoraLayer(raw: unknown, i: number): ConceptLoraLayer {
  const l = raw as Raw;
  if (typeof l !== 'object' || l === null || typeof l.prefix !== 'string' || l.prefix === '') throw unreadable(`LoRA layer ${i} has no name`);
  const { prefix, down, downShape, up, upShape, alpha } = l;
  if (!(down instanceof Float32Array) || !(up instanceof Float32Array) || !isShape(downShape) || !isShape(upShape)) {
    throw unreadable(`LoRA layer '${prefix}' has no down/up weights`);
  }
  if (down.length !== downShape[0] * downShape[1]) throw unreadable(`LoRA layer '${prefix}' down holds ${down.length} values for shape [${downShape}]`);
  if (up.length !== upShape[0] * upShape[1]) throw unreadable(`LoRA layer '${prefix}' up holds ${up.length} values for shape [${upShape}]`);
  if (downShape[0] !== upShape[1]) throw unreadable(`LoRA layer '${prefix}' has down rank ${downShape[0]} but up rank ${upShape[1]}`);
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) throw unreadable(`LoRA layer '${prefix}' alpha ${String(alpha)} is not positive`);
  return { prefix, down, downShape: [downShape[0], downShape[1]], up, upShape: [upShape[0], upShape[1]], alpha };
}

function readLora(raw: unknown): ConceptLora | null {
  if (raw === null) return null;
  const layers = (raw as Raw | undefined)?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw unreadable('its LoRA has no layers');
  const read = layers.map(readLoraLayer);
  const prefixes = new Set(read.map((l) => l.prefix));
  if (prefixes.size !== read.length) throw unreadable('its LoRA adapts a layer twice');
  return { layers: read };
}

/**
 * A concept from anything read back from storage. Version 1 is the first format; when the format
 * changes, older versions are upgraded here, one `case` each, so stored concepts keep loading.
 */
export function restoreConcept(raw: unknown): Concept {
  if (typeof raw !== 'object' || raw === null) throw unreadable('it is not an object');
  const r = raw as Raw;
  switch (r.version) {
    case 1: {
      const { id, token, classWord, kind, origin, baseModel, created, steps, loraStrength, photos, fileName, runId } = r;
      if (typeof id !== 'string' || id === '') throw unreadable('it has no id');
      if (typeof token !== 'string' || token.trim() === '') throw unreadable('its token is empty');
      if (typeof classWord !== 'string') throw unreadable('its class word is missing');
      if (!CONCEPT_KINDS.includes(kind as ConceptKind)) throw unreadable(`kind ${JSON.stringify(kind)} is unknown`);
      if (origin !== 'trained' && origin !== 'imported') throw unreadable(`origin ${JSON.stringify(origin)} is unknown`);
      if (typeof baseModel !== 'string') throw unreadable('its base model is missing');
      if (typeof created !== 'number' || !Number.isFinite(created)) throw unreadable('its creation date is missing');
      if (steps !== null && !isCount(steps)) throw unreadable(`steps ${String(steps)} is not a count`);
      if (typeof loraStrength !== 'number' || !Number.isFinite(loraStrength)) throw unreadable(`LoRA strength ${String(loraStrength)} is not a number`);
      if (!Array.isArray(photos) || !photos.every((p) => p instanceof Blob)) throw unreadable('its photos are not images');
      if (fileName !== undefined && typeof fileName !== 'string') throw unreadable('its file name is not text');
      if (runId !== undefined && typeof runId !== 'string') throw unreadable('its training run id is not text');
      const embedding = readEmbedding(r.embedding ?? null);
      const lora = readLora(r.lora ?? null);
      if (embedding === null && lora === null) throw unreadable('it holds neither an embedding nor a LoRA');
      const concept: Concept = { id, token, classWord, kind: kind as ConceptKind, origin, baseModel, created, steps, embedding, lora, loraStrength, photos: [...photos] };
      if (fileName !== undefined) concept.fileName = fileName;
      if (runId !== undefined) concept.runId = runId;
      return concept;
    }
    default:
      throw unreadable(`unknown version ${JSON.stringify(r.version)} (made by a newer studio?)`);
  }
}

/** The record to store; a concept that could not be read back is refused here with a TypeError (a programming error). */
export function storedConcept(c: Concept): StoredConcept {
  const record = { version: CONCEPT_VERSION, ...c } as StoredConcept;
  try {
    return { version: CONCEPT_VERSION, ...restoreConcept(record) };
  } catch (error) {
    throw new TypeError(`concept '${c?.token}' cannot be saved: ${(error as Error).message}`);
  }
}

export function conceptBytes(c: Concept): number {
  const weights = (c.embedding?.vectors.byteLength ?? 0) + (c.lora?.layers ?? []).reduce((sum, l) => sum + l.down.byteLength + l.up.byteLength, 0);
  return weights + c.photos.reduce((sum, p) => sum + p.size, 0);
}

export function summarizeConcept(c: Concept): ConceptSummary {
  const s: ConceptSummary = {
    id: c.id,
    token: c.token,
    classWord: c.classWord,
    kind: c.kind,
    origin: c.origin,
    baseModel: c.baseModel,
    created: c.created,
    steps: c.steps,
    loraStrength: c.loraStrength,
    embeddingVectors: c.embedding?.nVectors ?? 0,
    loraLayers: c.lora?.layers.length ?? 0,
    photoCount: c.photos.length,
    cover: c.photos[0] ?? null,
    bytes: conceptBytes(c),
  };
  if (c.fileName !== undefined) s.fileName = c.fileName;
  if (c.runId !== undefined) s.runId = c.runId;
  return s;
}

/** A stored summary, or null when it does not look like one (the full record is read instead). */
function readSummary(raw: unknown, id: string): ConceptSummary | null {
  const s = raw as (ConceptSummary & { version?: unknown }) | undefined;
  const ok =
    typeof s === 'object' && s !== null && s.version === CONCEPT_VERSION && s.id === id &&
    typeof s.token === 'string' && s.token.trim() !== '' && typeof s.created === 'number' &&
    CONCEPT_KINDS.includes(s.kind) && (s.origin === 'trained' || s.origin === 'imported') &&
    typeof s.classWord === 'string' && typeof s.baseModel === 'string' && typeof s.loraStrength === 'number' &&
    isCount(s.embeddingVectors) && isCount(s.loraLayers) && isCount(s.photoCount) && isCount(s.bytes) &&
    (s.cover === null || s.cover instanceof Blob);
  if (!ok) return null;
  const { version: _, ...summary } = s;
  return summary;
}

function newestFirst(a: ConceptSummary, b: ConceptSummary): number {
  return b.created - a.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// ------------------------------------------------------------------------------------------------
// IndexedDB

function tokenTaken(token: string | null): LibraryError {
  const which = token === null ? 'this token' : `the token '${token}'`;
  return new LibraryError('ConceptTokenTaken', `Another concept of the library already uses ${which}.`, 'Choose another token, or delete or rename the other concept first.');
}

/** Concepts in the browser's IndexedDB (database 'diffusion-studio-library'). */
export class IndexedDbConceptStore implements ConceptStore {
  private readonly db: () => Promise<IDBDatabase>;

  constructor(factory: IDBFactory | undefined = globalThis.indexedDB) {
    this.db = lazyLibraryDb(factory);
  }

  async list(): Promise<ConceptListing> {
    let keys: IDBValidKey[];
    let summaryKeys: IDBValidKey[];
    let summaries: unknown[];
    try {
      const tx = (await this.db()).transaction([CONCEPTS, CONCEPT_SUMMARIES]);
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
        if (!(error instanceof LibraryError) || error.name !== 'ConceptUnreadable') throw error;
        unreadableConcepts.push({ id, reason: error.message });
      }
    }
    return { concepts: concepts.sort(newestFirst), unreadable: unreadableConcepts };
  }

  async get(id: string): Promise<Concept | null> {
    let raw: unknown;
    try {
      raw = await request((await this.db()).transaction(CONCEPTS).objectStore(CONCEPTS).get(id));
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
      const edits = Object.fromEntries(CHANGEABLE.filter((k) => change[k] !== undefined).map((k) => [k, change[k]])) as ConceptChange;
      const next: Concept = { ...current, ...edits };
      const record = storedConcept(next);
      if (record.token !== current.token) await claimToken(tx, record.token, id);
      save(tx, record);
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
      tx = (await this.db()).transaction([CONCEPTS, CONCEPT_SUMMARIES], 'readwrite');
      const finished = done(tx);
      const result = await steps(tx);
      await finished;
      return result;
    } catch (error) {
      if (tx) abort(tx);
      if (error instanceof LibraryError || error instanceof TypeError) throw error;
      // The unique token index refused it (a second line of defence behind `claimToken`).
      if ((error as DOMException | null)?.name === 'ConstraintError') throw tokenTaken(null);
      throw storageError(error, action);
    }
  }
}

/** Refuses `token` when a concept other than `id` has it. */
async function claimToken(tx: IDBTransaction, token: string, id: string): Promise<void> {
  const owner = await request(tx.objectStore(CONCEPT_SUMMARIES).index(TOKEN_INDEX).getKey(token));
  if (owner !== undefined && owner !== id) throw tokenTaken(token);
}

function save(tx: IDBTransaction, record: StoredConcept): void {
  tx.objectStore(CONCEPTS).put(record, record.id);
  tx.objectStore(CONCEPT_SUMMARIES).put({ version: CONCEPT_VERSION, ...summarizeConcept(record) }, record.id);
}
