/** Named failures of the library's storage, each with a hint the page can show as is. */
import { storageFailure } from '../storage/idb';

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
  const f = storageFailure(error, action, QUOTA_HINT);
  return new LibraryError(f.name, f.message, f.hint);
}
