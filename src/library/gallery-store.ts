/**
 * The gallery: every generated image with the settings that made it, in the library database.
 * Three stores keep listing cheap: records (settings and times), thumbnails, and full PNGs. Pages
 * are read newest first with a cursor on `[createdAt, id]`, never everything at once; a write is
 * one transaction, so a full disk keeps every image already stored and adds none half-way.
 */
import { abort, done, request, storageError } from '../storage/idb';
import type { Database } from '../storage/database';
import { CONCEPT_INDEX, CREATED_INDEX, GALLERY, GALLERY_IMAGES, GALLERY_THUMBNAILS, libraryDb, MODEL_INDEX } from './db';
import type { GenerationSettings } from './generation-settings';

export interface GalleryRecord {
  id: string;
  /** Date.now() when its generation started, and how long the generation took. */
  createdAt: number;
  durationMs: number;
  settings: GenerationSettings;
  /** Copies of `settings.modelId` and the concepts' tokens, for the indexes. */
  modelId: string;
  conceptTokens: string[];
}

/** A record with its pixels: what is stored together, deleted together and put back by Undo. */
export interface GalleryEntry {
  record: GalleryRecord;
  thumbnail: Blob;
  /** The PNG with its `parameters` chunk. */
  image: Blob;
}

export interface GalleryFilter {
  /** A concept's id or token. */
  concept?: string;
  modelId?: string;
  /** Text the prompt holds (any case). */
  text?: string;
}

/** Where a page ended: `[createdAt, id]` of its last record. */
export type GalleryCursor = [number, string];

export interface GalleryPage {
  records: GalleryRecord[];
  /** Where the next page starts, or null when this one reached the oldest image. */
  next: GalleryCursor | null;
  /** Stored records skipped because they cannot be read. */
  unreadable: number;
}

export interface GalleryChoices {
  models: { id: string; name: string }[];
  concepts: string[];
}

export const GALLERY_QUOTA_HINT = 'Delete images you no longer need in the Gallery (select several, then Delete selected), or old concepts in the Library, or allow this site more storage.';

export function galleryRecord(id: string, createdAt: number, durationMs: number, settings: GenerationSettings): GalleryRecord {
  return { id, createdAt, durationMs, settings, modelId: settings.modelId, conceptTokens: [...new Set(settings.concepts.map((c) => c.token))] };
}

export function matchesFilter(record: GalleryRecord, filter: GalleryFilter): boolean {
  const { concept, modelId, text } = filter;
  if (modelId && record.modelId !== modelId) return false;
  if (concept && !record.settings.concepts.some((c) => c.id === concept || c.token === concept)) return false;
  if (text?.trim() && !record.settings.prompt.toLowerCase().includes(text.trim().toLowerCase())) return false;
  return true;
}

/** A stored record as the gallery reads it, or null when its shape is not a record's. */
export function readRecord(raw: unknown): GalleryRecord | null {
  const r = raw as Partial<GalleryRecord> | null;
  if (!r || typeof r.id !== 'string' || typeof r.createdAt !== 'number' || typeof r.durationMs !== 'number') return null;
  const s = r.settings;
  if (!s || typeof s.prompt !== 'string' || typeof s.seed !== 'number' || !Array.isArray(s.concepts) || typeof r.modelId !== 'string' || !Array.isArray(r.conceptTokens)) return null;
  return r as GalleryRecord;
}

export class IndexedDbGalleryStore {
  private readonly db: Database;

  constructor(factory: IDBFactory | undefined = globalThis.indexedDB) {
    this.db = libraryDb(factory);
  }

  /** Stores the entries in one transaction: all of them or, on a failure, none. */
  async add(entries: GalleryEntry[]): Promise<void> {
    const what = entries.length === 1 ? 'keep this image in the gallery' : `keep these ${entries.length} images in the gallery`;
    await this.write(what, (tx) => {
      for (const { record, thumbnail, image } of entries) {
        tx.objectStore(GALLERY).put(record, record.id);
        tx.objectStore(GALLERY_THUMBNAILS).put(thumbnail, record.id);
        tx.objectStore(GALLERY_IMAGES).put(image, record.id);
      }
    });
  }

  /** Up to `limit` records matching `filter`, newest first, after `after` (from the newest when null). */
  async page(filter: GalleryFilter, after: GalleryCursor | null, limit: number): Promise<GalleryPage> {
    try {
      const index = (await this.db.transaction(GALLERY)).objectStore(GALLERY).index(CREATED_INDEX);
      const cursorRequest = index.openCursor(after ? IDBKeyRange.upperBound(after, true) : null, 'prev');
      const records: GalleryRecord[] = [];
      let unreadable = 0;
      return await new Promise<GalleryPage>((resolve, reject) => {
        cursorRequest.onerror = () => reject(cursorRequest.error);
        cursorRequest.onsuccess = () => {
          const cursor = cursorRequest.result;
          if (!cursor) return resolve({ records, next: null, unreadable });
          const record = readRecord(cursor.value);
          if (!record) unreadable += 1;
          else if (matchesFilter(record, filter)) records.push(record);
          if (records.length < limit) return cursor.continue();
          resolve({ records, next: [record!.createdAt, record!.id], unreadable });
        };
      });
    } catch (error) {
      throw storageError(error, 'read the gallery');
    }
  }

  /** How many records match `filter` (an unfiltered count reads no record). */
  async count(filter: GalleryFilter = {}): Promise<number> {
    try {
      const store = (await this.db.transaction(GALLERY)).objectStore(GALLERY);
      if (!filter.concept && !filter.modelId && !filter.text?.trim()) return await request(store.count());
      const cursorRequest = store.openCursor();
      let n = 0;
      return await new Promise<number>((resolve, reject) => {
        cursorRequest.onerror = () => reject(cursorRequest.error);
        cursorRequest.onsuccess = () => {
          const cursor = cursorRequest.result;
          if (!cursor) return resolve(n);
          const record = readRecord(cursor.value);
          if (record && matchesFilter(record, filter)) n += 1;
          cursor.continue();
        };
      });
    } catch (error) {
      throw storageError(error, 'count the gallery');
    }
  }

  /** The models and concept tokens the stored images used (one index key each, no record scan). */
  async choices(): Promise<GalleryChoices> {
    try {
      const store = (await this.db.transaction(GALLERY)).objectStore(GALLERY);
      const models: GalleryChoices['models'] = [];
      const concepts: string[] = [];
      await Promise.all([
        eachCursor(store.index(MODEL_INDEX).openCursor(null, 'nextunique'), (c) => {
          const record = readRecord(c.value);
          if (record) models.push({ id: record.modelId, name: record.settings.modelName });
        }),
        eachCursor(store.index(CONCEPT_INDEX).openKeyCursor(null, 'nextunique'), (c) => {
          concepts.push(String(c.key));
        }),
      ]);
      return { models, concepts };
    } catch (error) {
      throw storageError(error, 'read the gallery');
    }
  }

  thumbnail(id: string): Promise<Blob | null> {
    return this.blob(GALLERY_THUMBNAILS, id);
  }

  /** The full PNG (with its `parameters` chunk). */
  image(id: string): Promise<Blob | null> {
    return this.blob(GALLERY_IMAGES, id);
  }

  /** Deletes the images in one transaction and returns what was there, for Undo (`add`). */
  async delete(ids: string[]): Promise<GalleryEntry[]> {
    return this.write(ids.length === 1 ? 'delete this image' : `delete ${ids.length} images`, async (tx) => {
      const removed: GalleryEntry[] = [];
      for (const id of ids) {
        const [raw, thumbnail, image] = await Promise.all([GALLERY, GALLERY_THUMBNAILS, GALLERY_IMAGES].map((s) => request(tx.objectStore(s).get(id))));
        const record = readRecord(raw);
        if (record && thumbnail instanceof Blob && image instanceof Blob) removed.push({ record, thumbnail, image });
        for (const s of [GALLERY, GALLERY_THUMBNAILS, GALLERY_IMAGES]) tx.objectStore(s).delete(id);
      }
      return removed;
    });
  }

  private async blob(store: string, id: string): Promise<Blob | null> {
    try {
      const raw: unknown = await request((await this.db.transaction(store)).objectStore(store).get(id));
      return raw instanceof Blob ? raw : null;
    } catch (error) {
      throw storageError(error, 'read the gallery');
    }
  }

  private async write<T>(action: string, body: (tx: IDBTransaction) => T | Promise<T>): Promise<T> {
    let tx: IDBTransaction | null = null;
    try {
      tx = await this.db.transaction([GALLERY, GALLERY_THUMBNAILS, GALLERY_IMAGES], 'readwrite');
      const finished = done(tx);
      const result = await body(tx);
      await finished;
      return result;
    } catch (error) {
      if (tx) abort(tx);
      throw storageError(error, action, GALLERY_QUOTA_HINT);
    }
  }
}

function eachCursor<C extends IDBCursor>(r: IDBRequest<C | null>, visit: (cursor: C) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const cursor = r.result;
      if (!cursor) return resolve();
      visit(cursor);
      cursor.continue();
    };
  });
}

