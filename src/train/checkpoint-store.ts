/**
 * Where training checkpoints are kept: a small `CheckpointStore` interface with an IndexedDB
 * adapter (browser) and an in-memory one (Node, tests). Both read records back through
 * `restoreCheckpoint`; IndexedDB failures are named errors (`StorageQuotaExceeded`, …).
 */
import { openDatabase, type Database, type DatabaseSchema } from '../storage/database';
import { done, request, storageError } from '../storage/idb';
import { restoreCheckpoint, summarize, type Checkpoint, type CheckpointSummary } from './checkpoint';

export interface CheckpointStore {
  put(id: string, checkpoint: Checkpoint): Promise<void>;
  /** The checkpoint, or null when there is none under `id`. */
  get(id: string): Promise<Checkpoint | null>;
  delete(id: string): Promise<void>;
  /** Summaries, oldest first. */
  list(): Promise<CheckpointSummary[]>;
}

/** Keeps structured clones in memory, as IndexedDB would store them. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly records = new Map<string, unknown>();

  async put(id: string, checkpoint: Checkpoint): Promise<void> {
    this.records.set(id, structuredClone(checkpoint));
  }

  async get(id: string): Promise<Checkpoint | null> {
    const raw = this.records.get(id);
    return raw === undefined ? null : restoreCheckpoint(structuredClone(raw));
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }

  async list(): Promise<CheckpointSummary[]> {
    return [...this.records].map(([id, raw]) => summarize(id, restoreCheckpoint(raw))).sort((a, b) => a.created - b.created);
  }
}

/** Full checkpoints by id. */
const RECORDS = 'checkpoints';
/** `CheckpointSummary` by id, so `list()` reads no tensors. */
const SUMMARIES = 'summaries';

const CHECKPOINT_DB: DatabaseSchema = {
  name: 'diffusion-studio-checkpoints',
  version: 1,
  label: 'the checkpoint database',
  upgrade(db) {
    if (!db.objectStoreNames.contains(RECORDS)) db.createObjectStore(RECORDS);
    if (!db.objectStoreNames.contains(SUMMARIES)) db.createObjectStore(SUMMARIES);
  },
};

const CHECKPOINT_QUOTA_HINT = 'Free browser storage: delete old checkpoints or concepts, or allow this site more storage.';

/** Checkpoints in the browser's IndexedDB. */
export class IndexedDbCheckpointStore implements CheckpointStore {
  private readonly db: Database;

  constructor(factory: IDBFactory | undefined = globalThis.indexedDB) {
    this.db = openDatabase(CHECKPOINT_DB, factory);
  }

  async put(id: string, checkpoint: Checkpoint): Promise<void> {
    await this.storage(`save checkpoint '${id}'`, async () => {
      const tx = await this.db.transaction([RECORDS, SUMMARIES], 'readwrite');
      tx.objectStore(RECORDS).put(checkpoint, id);
      tx.objectStore(SUMMARIES).put(summarize(id, checkpoint), id);
      await done(tx);
    });
  }

  async get(id: string): Promise<Checkpoint | null> {
    const raw = await this.storage(`read checkpoint '${id}'`, async () => request((await this.db.transaction(RECORDS)).objectStore(RECORDS).get(id)));
    return raw === undefined ? null : restoreCheckpoint(raw);
  }

  async delete(id: string): Promise<void> {
    await this.storage(`delete checkpoint '${id}'`, async () => {
      const tx = await this.db.transaction([RECORDS, SUMMARIES], 'readwrite');
      tx.objectStore(RECORDS).delete(id);
      tx.objectStore(SUMMARIES).delete(id);
      await done(tx);
    });
  }

  async list(): Promise<CheckpointSummary[]> {
    const all = await this.storage('list checkpoints', async () => request((await this.db.transaction(SUMMARIES)).objectStore(SUMMARIES).getAll()));
    return (all as CheckpointSummary[]).sort((a, b) => a.created - b.created);
  }

  /** Runs one IndexedDB step; its failures become named storage errors. */
  private async storage<T>(action: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw storageError(error, action, CHECKPOINT_QUOTA_HINT);
    }
  }
}
