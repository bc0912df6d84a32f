/** Small promise helpers over IndexedDB, and its failures told apart, for every store of the studio. */

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

export interface StorageFailure {
  name: 'StorageQuotaExceeded' | 'StorageUnavailable';
  message: string;
  hint: string;
}

/** What an IndexedDB failure means for the user: out of quota (`quotaHint` says what to free), or no storage. */
export function storageFailure(error: unknown, action: string, quotaHint: string): StorageFailure {
  const e = error as DOMException | null;
  if (e?.name === 'QuotaExceededError' || (e?.name === 'AbortError' && /quota/i.test(e.message))) {
    return { name: 'StorageQuotaExceeded', message: `Not enough browser storage to ${action}.`, hint: quotaHint };
  }
  return { name: 'StorageUnavailable', message: `Browser storage failed to ${action}: ${e?.message ?? String(error)}`, hint: 'Reload the page; private windows may not allow storage.' };
}
