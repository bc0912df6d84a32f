/**
 * The draft's photo crops, kept by the photo itself (not its index), so removing or clearing
 * photos can never hand one photo another's crop; a run stores them one a photo.
 */
import { CENTRE_CROP, type PhotoCrop } from '../library/photo-crop';

/** A photo of the draft and the square the person chose for it. */
export interface DraftCrop {
  photo: Blob;
  crop: PhotoCrop;
}

/** The crop of `photo` (the centred square unless one was chosen). */
export function cropOf(crops: readonly DraftCrop[] | undefined, photo: Blob): PhotoCrop {
  return crops?.find((c) => c.photo === photo)?.crop ?? CENTRE_CROP;
}

/** The crops with `photo`'s set to `crop`; those of photos no longer in `photos` are dropped. */
export function withCrop(crops: readonly DraftCrop[] | undefined, photos: readonly Blob[], photo: Blob, crop: PhotoCrop): DraftCrop[] {
  return [...(crops ?? []).filter((c) => c.photo !== photo && photos.includes(c.photo)), { photo, crop }];
}

/** One crop a photo, in the photos' order, as a run stores them. */
export function cropsInOrder(crops: readonly DraftCrop[] | undefined, photos: readonly Blob[]): PhotoCrop[] {
  return photos.map((p) => cropOf(crops, p));
}
