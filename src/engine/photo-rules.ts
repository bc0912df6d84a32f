/**
 * What the studio takes as a training photo, the page and the CLI alike: a file whose header
 * names an image under the pixel cap (checked before decoding), at most MAX_PHOTOS a concept,
 * and one message per file it refuses. Plain TypeScript, no decoding here.
 */
import { StudioError } from '../common/errors';
import { readImageHeader, shownSize, type ImageHeader } from './image-header';

/**
 * 40 megapixels: decoded at 4 bytes a pixel that is 160 MB for one photo, in a tab that also
 * holds the model. Phones save 12–24 MP photos and training uses at most 1024 × 1024, so a
 * larger photo only costs memory and time.
 */
export const MAX_PHOTO_MEGAPIXELS = 40;
/**
 * The page's smallest photo, on its short side: the smallest training resolution (64 px, the
 * Resolution field's minimum). A smaller one is only a blur once scaled up. The CLI keeps no
 * minimum (its tests train on tiny photos).
 */
export const MIN_PHOTO_SIDE = 64;
/** Photos per concept: 3–5 are enough; more only makes a slower run. */
export const MAX_PHOTOS = 50;

export const photoRefusal = {
  undecodable: (name: string, by = 'the browser') => `${name}: not an image ${by} can decode`,
  tooLarge: (name: string, width: number, height: number) => `${name}: ${width}×${height} is over the ${MAX_PHOTO_MEGAPIXELS}-megapixel limit`,
  tooSmall: (name: string, width: number, height: number) => `${name}: ${width}×${height} is too small (at least ${MIN_PHOTO_SIDE} px on the short side)`,
  noType: (name: string) => `${name}: no file type (HEIC photos from Windows?): convert to JPEG or PNG`,
  tooMany: (leftOut: number) => `only ${MAX_PHOTOS} photos per concept: ${leftOut} ${leftOut === 1 ? 'was' : 'were'} left out`,
};

export const PHOTO_REFUSED_HINT = `Add JPEG, PNG or WebP photos of at most ${MAX_PHOTO_MEGAPIXELS} megapixels (scale larger ones down first).`;

/** A photo's pixel count against the cap (and its short side against `minSide`): the refusal, or null when it is within them. */
export function pixelRefusal(name: string, width: number, height: number, minSide = 1): string | null {
  if (width * height > MAX_PHOTO_MEGAPIXELS * 1e6) return photoRefusal.tooLarge(name, width, height);
  return Math.min(width, height) < minSide ? photoRefusal.tooSmall(name, width, height) : null;
}

/** A file as screened before decoding: refused (why), or to be decoded (its header, null when the studio cannot read it). */
export type Screened = { refusal: string } | { header: ImageHeader | null };

/**
 * Screens a photo by its bytes and, in the page, its MIME type (`type`; the CLI has none): a
 * file without a type is refused unless its header names an image; a type not image/* is
 * refused unless the same; a header over the pixel cap, or under `minSide` (the page's
 * MIN_PHOTO_SIDE), is refused.
 */
export function screenPhoto(name: string, bytes: Uint8Array, type?: string, minSide = 1): Screened {
  const header = readImageHeader(bytes);
  if (!header) {
    if (type === '') return { refusal: photoRefusal.noType(name) };
    if (type !== undefined && !type.startsWith('image/')) return { refusal: photoRefusal.undecodable(name) };
    return { header: null };
  }
  const { width, height } = shownSize(header);
  const refusal = pixelRefusal(name, width, height, minSide);
  return refusal ? { refusal } : { header };
}

/** The bytes read for a header: a JPEG's frame header follows its EXIF and colour profile, well within 1 MiB. */
export const HEADER_BYTES = 1 << 20;

/** The start of a file, where its header is. */
export async function headerBytes(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
}

/** How many more photos a concept holding `have` takes. */
export function photoRoom(have: number): number {
  return Math.max(0, MAX_PHOTOS - have);
}

/** The refusals as one error, one line a file. */
export function photosRefused(refusals: readonly string[], hint = PHOTO_REFUSED_HINT): StudioError {
  return new StudioError('PhotoRefused', refusals.join('\n'), hint);
}
