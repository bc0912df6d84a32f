/** An image from a Blob (a photo in the page or in IndexedDB), its object URL freed when it goes. */
import { useEffect, useRef, useState, type CSSProperties, type SyntheticEvent } from 'react';

/**
 * Frees `url` once `img` no longer needs it: now if the image has settled (or never showed it),
 * else when its load ends. Revoking mid-load fails the fetch ("ERR_FILE_NOT_FOUND" in the console),
 * which happens when the blob changes (next image in the lightbox) before the last one decoded.
 */
function freeWhenSettled(url: string, img: HTMLImageElement | null): void {
  if (!img || img.complete || img.getAttribute('src') !== url) {
    URL.revokeObjectURL(url);
    return;
  }
  const free = () => {
    img.removeEventListener('load', free);
    img.removeEventListener('error', free);
    URL.revokeObjectURL(url);
  };
  img.addEventListener('load', free);
  img.addEventListener('error', free);
}

export function BlobImage({ blob, alt, className = 'thumb', style, onLoad }: { blob: Blob; alt: string; className?: string; style?: CSSProperties; onLoad?: (e: SyntheticEvent<HTMLImageElement>) => void }) {
  // Made and freed in one effect: StrictMode's extra mount/unmount must not leave a revoked URL.
  const [url, setUrl] = useState<string | null>(null);
  // The last element shown, kept through unmount (React nulls an object ref before the cleanup runs).
  const img = useRef<HTMLImageElement | null>(null);
  useEffect(() => {
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => freeWhenSettled(made, img.current);
  }, [blob]);
  return url ? <img ref={(el) => void (el && (img.current = el))} src={url} alt={alt} className={className} style={style} onLoad={onLoad} draggable={false} /> : <span className={className} role="img" aria-label={alt} />;
}
