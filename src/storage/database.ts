/**
 * The one IndexedDB opener of the studio: a database described by its name, version and upgrade
 * handler, connected on first use and connected again after a failure, once the browser closed
 * (or is closing) the connection, or when another tab deletes or upgrades it.
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

/** A database's connection, kept open between uses. */
export interface Database {
  /** The connection: opened on first call, and again after a failure or a close. */
  connection(): Promise<IDBDatabase>;
  /** A transaction; on a connection the browser is closing (InvalidStateError), one on a fresh connection instead. */
  transaction(stores: string | string[], mode?: IDBTransactionMode): Promise<IDBTransaction>;
}

export const NEWER_VERSION_HINT = 'A newer version of the studio is open in another tab: reload this tab (or close the other).';

function connect(factory: IDBFactory | undefined, schema: DatabaseSchema): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    if (!factory) throw new StudioError('StorageUnavailable', 'This browser has no IndexedDB.', 'Use a browser window that allows site storage.');
    const r = factory.open(schema.name, schema.version);
    r.onupgradeneeded = () => schema.upgrade(r.result);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(openError(r.error, schema));
    r.onblocked = () => reject(new StudioError('StorageUnavailable', `${capitalized(schema.label)} is held open by an older version of the studio.`, 'Close the other studio tabs and reload.'));
  });
}

/** A VersionError means the database on disk is newer than this page's code. */
function openError(error: DOMException | null, schema: DatabaseSchema): StudioError {
  if (error?.name !== 'VersionError') return storageError(error, `open ${schema.label}`);
  return new StudioError('StorageUnavailable', `${capitalized(schema.label)} was upgraded by a newer version of the studio.`, NEWER_VERSION_HINT, { cause: error });
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function openDatabase(schema: DatabaseSchema, factory: IDBFactory | undefined = globalThis.indexedDB): Database {
  let db: Promise<IDBDatabase> | null = null;
  const connection = (): Promise<IDBDatabase> => {
    db ??= connect(factory, schema).then(
      (c) => {
        c.onversionchange = () => {
          c.close(); // let the other tab delete or upgrade it
          db = null;
        };
        c.onclose = () => {
          db = null;
        };
        return c;
      },
      (error) => {
        db = null;
        throw error;
      },
    );
    return db;
  };
  return {
    connection,
    async transaction(stores, mode) {
      const current = connection();
      const c = await current;
      try {
        return c.transaction(stores, mode);
      } catch (error) {
        if ((error as DOMException | null)?.name !== 'InvalidStateError') throw error;
        if (db === current) db = null; // closing, its close event still to come
        return (await connection()).transaction(stores, mode);
      }
    },
  };
}
