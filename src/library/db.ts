/**
 * The library's IndexedDB database: concepts (with their list summaries), training runs and the
 * gallery's images, all created by one upgrade handler (version 2 added the gallery).
 */
import { openDatabase, type Database, type DatabaseSchema } from '../storage/database';

/** Full concept records (`StoredConcept`), by concept id. */
export const CONCEPTS = 'concepts';
/** `ConceptSummary` records by concept id, so listing reads no weights; unique index on `token`. */
export const CONCEPT_SUMMARIES = 'concept-summaries';
export const TOKEN_INDEX = 'token';
/** Training runs (`StoredRun`), by run id. */
export const RUNS = 'runs';
/** Gallery records (`GalleryRecord`: settings and times, no pixels), by image id. */
export const GALLERY = 'gallery';
/** Index on `[createdAt, id]`: newest-first pages with an exact place to continue from. */
export const CREATED_INDEX = 'created';
/** Index on `modelId` and multi-entry index on `conceptTokens`: the filters' choices. */
export const MODEL_INDEX = 'model';
export const CONCEPT_INDEX = 'concept';
/** Each image's small thumbnail Blob, by image id, so the grid never decodes full images. */
export const GALLERY_THUMBNAILS = 'gallery-thumbnails';
/** Each image's full PNG (with its `parameters` chunk), by image id, so listing never reads it. */
export const GALLERY_IMAGES = 'gallery-images';

export const LIBRARY_DB: DatabaseSchema = {
  name: 'diffusion-studio-library',
  version: 2,
  label: 'the library database',
  upgrade(db) {
    if (!db.objectStoreNames.contains(CONCEPTS)) db.createObjectStore(CONCEPTS);
    if (!db.objectStoreNames.contains(CONCEPT_SUMMARIES)) {
      db.createObjectStore(CONCEPT_SUMMARIES).createIndex(TOKEN_INDEX, 'token', { unique: true });
    }
    if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS);
    if (!db.objectStoreNames.contains(GALLERY)) {
      const gallery = db.createObjectStore(GALLERY);
      gallery.createIndex(CREATED_INDEX, ['createdAt', 'id']);
      gallery.createIndex(MODEL_INDEX, 'modelId');
      gallery.createIndex(CONCEPT_INDEX, 'conceptTokens', { multiEntry: true });
    }
    if (!db.objectStoreNames.contains(GALLERY_THUMBNAILS)) db.createObjectStore(GALLERY_THUMBNAILS);
    if (!db.objectStoreNames.contains(GALLERY_IMAGES)) db.createObjectStore(GALLERY_IMAGES);
  },
};

/** The library database's connection (see `openDatabase`). */
export function libraryDb(factory: IDBFactory | undefined = globalThis.indexedDB): Database {
  return openDatabase(LIBRARY_DB, factory);
}
