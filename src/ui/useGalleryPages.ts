/**
 * The gallery's records for one filter, read page by page (newest first) as the grid scrolls
 * towards them, and read again from the start when the filter or the stored images change.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { GalleryCursor, GalleryFilter, GalleryRecord } from '../library/gallery-store';
import { galleryStore, useGallery } from './gallery';
import { noticeOf } from './notice';

export const GALLERY_PAGE = 120;

export interface GalleryPages {
  records: GalleryRecord[];
  /** How many records match the filter (null until counted). */
  total: number | null;
  /** Stored records that could not be read, so far. */
  unreadable: number;
  /** Reads pages until record `index` is loaded (or none are left). */
  loadThrough(index: number): void;
}

export function useGalleryPages(filter: GalleryFilter): GalleryPages {
  const revision = useGallery((s) => s.revision);
  const [records, setRecords] = useState<GalleryRecord[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [unreadable, setUnreadable] = useState(0);
  const [wanted, setWanted] = useState(GALLERY_PAGE - 1);
  const read = useRef<{ key: string; next: GalleryCursor | null; done: boolean; busy: boolean }>({ key: '', next: null, done: false, busy: false });
  const key = `${revision}|${filter.concept ?? ''}|${filter.modelId ?? ''}|${filter.text ?? ''}`;

  // A new filter or a change to the stored images: start again from the newest.
  useEffect(() => {
    read.current = { key, next: null, done: false, busy: false };
    setRecords([]);
    setUnreadable(0);
    setTotal(null);
    galleryStore.count(filter).then(
      (n) => read.current.key === key && setTotal(n),
      (e) => useGallery.setState({ notice: noticeOf(e) }),
    );
  }, [key]);

  useEffect(() => {
    const state = read.current;
    if (state.key !== key || state.done || state.busy || records.length > wanted) return;
    state.busy = true;
    galleryStore.page(filter, state.next, GALLERY_PAGE).then(
      (page) => {
        if (read.current !== state) return;
        state.busy = false;
        state.next = page.next;
        state.done = page.next === null;
        setUnreadable((n) => n + page.unreadable);
        setRecords((r) => [...r, ...page.records]);
      },
      (e) => {
        state.busy = false;
        state.done = true;
        useGallery.setState({ notice: noticeOf(e) });
      },
    );
  }, [key, records, wanted]);

  const loadThrough = useCallback((index: number) => setWanted((w) => Math.max(w, index)), []);
  // A new filter asks only for its first page again.
  useEffect(() => setWanted(GALLERY_PAGE - 1), [key]);
  return { records, total, unreadable, loadThrough };
}
