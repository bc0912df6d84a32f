/** Named failures of the library's storage, each with a hint the page can show as is. */

export type LibraryErrorName = 'ConceptUnreadable' | 'ConceptTokenTaken' | 'StorageQuotaExceeded' | 'StorageUnavailable' | 'RunUnreadable';

export class LibraryError extends Error {
  override readonly name: LibraryErrorName;
  readonly hint: string;

  constructor(name: LibraryErrorName, message: string, hint: string) {
    super(message);
    this.name = name;
    this.hint = hint;
  }
}

const QUOTA_HINT = 'Free browser storage: delete concepts or old training runs, or allow this site more storage.';

/** An IndexedDB failure as a named error: quota errors say so, the rest is 'StorageUnavailable'. */
export function storageError(error: unknown, action: string): LibraryError {
  if (error instanceof LibraryError) return error;
  const e = error as DOMException | null;
  if (e?.name === 'QuotaExceededError' || (e?.name === 'AbortError' && /quota/i.test(e.message))) {
    return new LibraryError('StorageQuotaExceeded', `Not enough browser storage to ${action}.`, QUOTA_HINT);
  }
  return new LibraryError('StorageUnavailable', `Browser storage failed to ${action}: ${e?.message ?? String(error)}`, 'Reload the page; private windows may not allow storage.');
}
