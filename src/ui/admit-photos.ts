/**
 * Which dropped or picked files join the concept's photos: each is screened by its type and
 * header (engine/photo-rules.ts) and decoded now, so a file that is no image, or too large,
 * is refused with its name before anything is stored, never at Train.
 */
import { StudioError } from '../common/errors';
import { headerBytes, photoRefusal, photoRoom, screenPhoto } from '../engine/photo-rules';

export interface Admitted {
  /** The photos to add, in the order given. */
  added: File[];
  /** One message a refused file (and one for those over the count). */
  refused: string[];
}

/**
 * Screens and decodes `files` for a concept that holds `have` photos. `decode` decodes one
 * photo as Train will (the page: `squarePhoto` at the training size) and throws if it cannot.
 */
export async function admitPhotos(files: readonly File[], have: number, decode: (file: File) => Promise<unknown>): Promise<Admitted> {
  const room = photoRoom(have);
  const added: File[] = [];
  const refused: string[] = [];
  let leftOut = 0;
  for (const file of files) {
    if (added.length >= room) {
      leftOut++;
      continue;
    }
    try {
      const screened = screenPhoto(file.name, await headerBytes(file), file.type);
      if ('refusal' in screened) {
        refused.push(screened.refusal);
        continue;
      }
      await decode(file);
      added.push(file);
    } catch (error) {
      refused.push(error instanceof StudioError && error.name === 'PhotoRefused' ? error.message : photoRefusal.undecodable(file.name));
    }
  }
  if (leftOut > 0) refused.push(photoRefusal.tooMany(leftOut));
  return { added, refused };
}
