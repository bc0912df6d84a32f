/** An image from a Blob (a photo in the page or in IndexedDB), its object URL freed when it goes. */
import { useEffect, useState, type CSSProperties, type SyntheticEvent } from 'react';

export function BlobImage({ blob, alt, className = 'thumb', style, onLoad }: { blob: Blob; alt: string; className?: string; style?: CSSProperties; onLoad?: (e: SyntheticEvent<HTMLImageElement>) => void }) {
  // Made and revoked in one effect: StrictMode's extra mount/unmount must not leave a revoked URL.
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [blob]);
  return url ? <img src={url} alt={alt} className={className} style={style} onLoad={onLoad} draggable={false} /> : <span className={className} role="img" aria-label={alt} />;
}
