/**
 * The page's side of the gallery: every announced image stored (with its thumbnail and its PNG
 * carrying its settings), deletions that can be undone, and the gallery's notice. The listener
 * never throws: a failure (a full disk) becomes the notice, and the image stays in Generate.
 */
import { create } from 'zustand';
import { IndexedDbGalleryStore, galleryRecord, type GalleryEntry } from '../library/gallery-store';
import { pngWithSettings } from '../library/settings-infotext';
import { onImagesGenerated, type GeneratedImage } from './generated-images';
import { thumbnailOf } from './gallery-thumbnail';
import { noticeOf } from './notice';
import type { Notice } from './store';

export const galleryStore = new IndexedDbGalleryStore();

interface GalleryState {
  /** Bumped whenever the stored images change, so the grid reads again. */
  revision: number;
  notice: Notice | null;
  /** The images the last delete removed, until Undo or the next delete. */
  undo: GalleryEntry[] | null;
}

export const useGallery = create<GalleryState>(() => ({ revision: 0, notice: null, undo: null }));

function changed(change: Partial<GalleryState>): void {
  useGallery.setState((s) => ({ ...change, revision: s.revision + 1 }));
}

async function entryOf({ image, settings, startedAt, durationMs }: GeneratedImage): Promise<GalleryEntry> {
  const png = pngWithSettings(image, settings);
  return {
    record: galleryRecord(crypto.randomUUID(), startedAt, durationMs, settings),
    thumbnail: await thumbnailOf(image),
    image: new Blob([png as BlobPart], { type: 'image/png' }),
  };
}

export async function keepImages(images: GeneratedImage[]): Promise<void> {
  try {
    await galleryStore.add(await Promise.all(images.map(entryOf)));
    changed({ notice: null });
  } catch (e) {
    const n = images.length === 1 ? 'The image you just generated' : `The ${images.length} images you just generated`;
    const { message, hint } = noticeOf(e);
    useGallery.setState({ notice: { tone: 'error', message: `${n} could not be kept in the gallery. ${message}`, hint: `${hint ? `${hint} ` : ''}It is still shown in Generate.` } });
  }
}

/** Keeps every image the Generate section finishes; returns the unsubscribe. */
export function keepGeneratedImages(): () => void {
  return onImagesGenerated(keepImages);
}

export async function deleteImages(ids: string[]): Promise<void> {
  try {
    const removed = await galleryStore.delete(ids);
    const what = removed.length === 1 ? 'Deleted 1 image.' : `Deleted ${removed.length} images.`;
    changed({ undo: removed, notice: { tone: 'ok', message: what } });
  } catch (e) {
    useGallery.setState({ notice: noticeOf(e) });
  }
}

export async function undoDelete(): Promise<void> {
  const removed = useGallery.getState().undo;
  if (!removed) return;
  try {
    await galleryStore.add(removed);
    changed({ undo: null, notice: { tone: 'ok', message: removed.length === 1 ? 'The image is back.' : `The ${removed.length} images are back.` } });
  } catch (e) {
    useGallery.setState({ notice: noticeOf(e) });
  }
}

export function dismissGalleryNotice(): void {
  useGallery.setState({ notice: null });
}
