/**
 * The library's IndexedDB database: concepts (with their list summaries) and training runs, all
 * created by one upgrade handler.
 */
import { openDatabase, type Database, type DatabaseSchema } from '../storage/database';

/** Full concept records (`StoredConcept`), by concept id. */
export const CONCEPTS = 'concepts';
/** `ConceptSummary` records by concept id, so listing reads no weights; unique index on `token`. */
export const CONCEPT_SUMMARIES = 'concept-summaries';
export const TOKEN_INDEX = 'token';
/** Training runs (`StoredRun`), by run id. */
export const RUNS = 'runs';

export const LIBRARY_DB: DatabaseSchema = {
  name: 'diffusion-studio-library',
  version: 1,
  label: 'the library database',
  upgrade(db) {
    if (!db.objectStoreNames.contains(CONCEPTS)) db.createObjectStore(CONCEPTS);
    if (!db.objectStoreNames.contains(CONCEPT_SUMMARIES)) {
      db.createObjectStore(CONCEPT_SUMMARIES).createIndex(TOKEN_INDEX, 'token', { unique: true });
    }
    if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS);
  },
};

/** The library database's connection (see `openDatabase`). */
export function libraryDb(factory: IDBFactory | undefined = globalThis.indexedDB): Database {
  return openDatabase(LIBRARY_DB, factory);
}
