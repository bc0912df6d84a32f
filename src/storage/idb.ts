/** Small promise helpers over IndexedDB, and its failures as named errors, for every store of the studio. */
import { isQuotaError, QUOTA_HINT, StudioError } from '../common/errors';

export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Resolves when the transaction commits, rejects when it aborts. */
export function done(tx: IDBTransaction): Promise<void> {
  const finished = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
  finished.catch(() => {}); // awaited later; not an unhandled rejection meanwhile
  return finished;
}

/** Aborts a transaction that is still running (after a refused or failed step). */
export function abort(tx: IDBTransaction): void {
  try {
    tx.abort();
  } catch {
    // already committed or aborted
  }
}

/**
 * What an IndexedDB failure means for the user: out of quota (`quotaHint` says what to free), or
 * no storage. A StudioError (a refusal of the store itself) passes as is.
 */
export function storageError(error: unknown, action: string, quotaHint = QUOTA_HINT): StudioError {
  if (error instanceof StudioError) return error;
  if (isQuotaError(error)) return new StudioError('StorageQuotaExceeded', `Not enough browser storage to ${action}.`, quotaHint, { cause: error });
  const message = (error as Error | null)?.message ?? String(error);
  return new StudioError('StorageUnavailable', `Browser storage failed to ${action}: ${message}`, undefined, { cause: error });
}
