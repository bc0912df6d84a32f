/**
 * The library's IndexedDB database: concepts (with their list summaries) and training runs, all
 * created by one upgrade handler. Small promise helpers for requests and transactions.
 */
import { LibraryError, storageError } from './errors';

export const LIBRARY_DB_NAME = 'diffusion-studio-library';
export const LIBRARY_DB_VERSION = 1;

/** Full concept records (`StoredConcept`), by concept id. */
export const CONCEPTS = 'concepts';
/** `ConceptSummary` records by concept id, so listing reads no weights; unique index on `token`. */
export const CONCEPT_SUMMARIES = 'concept-summaries';
export const TOKEN_INDEX = 'token';
/** Training runs (`StoredRun`), by run id. */
export const RUNS = 'runs';

export function openLibraryDb(factory: IDBFactory | undefined = globalThis.indexedDB): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    if (!factory) throw new LibraryError('StorageUnavailable', 'This browser has no IndexedDB.', 'Use a browser window that allows site storage.');
    const r = factory.open(LIBRARY_DB_NAME, LIBRARY_DB_VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains(CONCEPTS)) db.createObjectStore(CONCEPTS);
      if (!db.objectStoreNames.contains(CONCEPT_SUMMARIES)) {
        db.createObjectStore(CONCEPT_SUMMARIES).createIndex(TOKEN_INDEX, 'token', { unique: true });
      }
      if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS);
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(storageError(r.error, 'open the library database'));
    r.onblocked = () => reject(new LibraryError('StorageUnavailable', 'The library database is held open by an older version of the studio.', 'Close the other studio tabs and reload.'));
  });
}

/** A connection opened on first use, opened again after a failure or once the browser closed it. */
export function lazyLibraryDb(factory: IDBFactory | undefined): () => Promise<IDBDatabase> {
  let db: Promise<IDBDatabase> | null = null;
  return () => {
    db ??= openLibraryDb(factory).then(
      (connection) => {
        connection.onversionchange = () => {
          connection.close(); // let a newer tab upgrade
          db = null;
        };
        connection.onclose = () => {
          db = null;
        };
        return connection;
      },
      (error) => {
        db = null;
        throw error;
      },
    );
    return db;
  };
}

export { abort, done, request } from '../storage/idb';
