/**
 * The one IndexedDB opener of the studio: a database described by its name, version and upgrade
 * handler, connected on first use and connected again after a failure, once the browser closed
 * the connection, or when a newer tab asks to upgrade.
 */
import { StudioError } from '../common/errors';
import { storageError } from './idb';

export interface DatabaseSchema {
  name: string;
  version: number;
  /** What the user calls it, in messages ("the library database"). */
  label: string;
  /** Creates the object stores and indexes that are missing (first open and every version bump). */
  upgrade(db: IDBDatabase): void;
}

function connect(factory: IDBFactory | undefined, schema: DatabaseSchema): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    if (!factory) throw new StudioError('StorageUnavailable', 'This browser has no IndexedDB.', 'Use a browser window that allows site storage.');
    const r = factory.open(schema.name, schema.version);
    r.onupgradeneeded = () => schema.upgrade(r.result);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(storageError(r.error, `open ${schema.label}`));
    r.onblocked = () => reject(new StudioError('StorageUnavailable', `${capitalized(schema.label)} is held open by an older version of the studio.`, 'Close the other studio tabs and reload.'));
  });
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A connection getter: opens on first call, and again after a failure or a close. */
export function openDatabase(schema: DatabaseSchema, factory: IDBFactory | undefined = globalThis.indexedDB): () => Promise<IDBDatabase> {
  let db: Promise<IDBDatabase> | null = null;
  return () => {
    db ??= connect(factory, schema).then(
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
