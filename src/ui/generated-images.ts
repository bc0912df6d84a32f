/**
 * Images the Generate section finished, told to whoever keeps them (the gallery), without the
 * composer knowing who listens.
 */
import type { RgbaImage } from '../engine/protocol';
import type { GenerationSettings } from '../library/generation-settings';

export interface GeneratedImage {
  image: RgbaImage;
  /** This image's own settings (its own seed). */
  settings: GenerationSettings;
  /** When the generation started (ms since the epoch) and how long it took, for the whole request. */
  startedAt: number;
  durationMs: number;
}

type Listener = (images: GeneratedImage[]) => void | Promise<void>;
const listeners = new Set<Listener>();

/** Calls `listener` with every finished generation's images; returns the unsubscribe. */
export function onImagesGenerated(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells every listener; one listener's failure does not stop the others. */
export async function announceImagesGenerated(images: GeneratedImage[]): Promise<void> {
  const settled = await Promise.allSettled([...listeners].map(async (l) => l(images)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
