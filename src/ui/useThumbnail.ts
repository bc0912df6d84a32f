/** A gallery image's thumbnail Blob, read once and kept in a small cache shared by the grid's tiles. */
import { useEffect, useState } from 'react';
import { galleryStore } from './gallery';

const CACHE_SIZE = 600;
const cache = new Map<string, Blob>();

function remember(id: string, blob: Blob): void {
  cache.set(id, blob);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
}

export function useThumbnail(id: string): Blob | null {
  const [blob, setBlob] = useState<Blob | null>(() => cache.get(id) ?? null);
  useEffect(() => {
    const cached = cache.get(id);
    if (cached) return setBlob(cached);
    let live = true;
    galleryStore.thumbnail(id).then(
      (b) => {
        if (b) remember(id, b);
        if (live) setBlob(b);
      },
      () => {}, // the tile stays a placeholder; the grid's own reads report storage failures
    );
    return () => {
      live = false;
    };
  }, [id]);
  return blob;
}
