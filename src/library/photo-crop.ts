/**
 * The square of a training photo that training uses, as the person chose it: its size as a
 * fraction of the photo's short side and its position within the room left on each axis (0 at
 * the left or top edge, 1 at the right or bottom). Fractions, so a crop fits the photo at any
 * size; the default is the centred square of the whole short side.
 */

export interface PhotoCrop {
  /** 0–1 along the room left horizontally. */
  x: number;
  /** 0–1 along the room left vertically. */
  y: number;
  /** The square's side over the photo's short side, MIN_CROP_SIZE–1. */
  size: number;
}

export const CENTRE_CROP: PhotoCrop = { x: 0.5, y: 0.5, size: 1 };

/** A quarter of the short side: zoomed in 4×. */
export const MIN_CROP_SIZE = 0.25;

/** Within [lo, hi], to 4 decimals (steps of 0.1 add up to 0, not 2.8e-17). */
const clamp = (v: number, lo: number, hi: number) => Math.round(Math.min(hi, Math.max(lo, v)) * 1e4) / 1e4;

/** The crop brought within its bounds, to 4 decimals. */
export function clampCrop(crop: PhotoCrop): PhotoCrop {
  return { x: clamp(crop.x, 0, 1), y: clamp(crop.y, 0, 1), size: clamp(crop.size, MIN_CROP_SIZE, 1) };
}

/** The crop's square in a width × height image (as shown, EXIF orientation applied), in whole pixels. */
export function cropRect(width: number, height: number, crop: PhotoCrop = CENTRE_CROP): { sx: number; sy: number; side: number } {
  const c = clampCrop(crop);
  const short = Math.min(width, height);
  const side = Math.max(1, Math.min(short, Math.round(c.size * short)));
  return { sx: Math.floor(c.x * (width - side)), sy: Math.floor(c.y * (height - side)), side };
}

/** The crop after the picture was dragged by dx, dy image pixels under it (the square moves the other way). */
export function panCrop(crop: PhotoCrop, width: number, height: number, dx: number, dy: number): PhotoCrop {
  const { side } = cropRect(width, height, crop);
  const along = (at: number, room: number, by: number) => (room > 0 ? at - by / room : at);
  return clampCrop({ ...crop, x: along(crop.x, width - side, dx), y: along(crop.y, height - side, dy) });
}

/** Whether a stored value is a crop (fractions within bounds). */
export function isPhotoCrop(raw: unknown): raw is PhotoCrop {
  const c = raw as Partial<Record<keyof PhotoCrop, unknown>> | null;
  const within = (v: unknown, lo: number) => typeof v === 'number' && v >= lo && v <= 1;
  return typeof c === 'object' && c !== null && within(c.x, 0) && within(c.y, 0) && within(c.size, MIN_CROP_SIZE);
}

/** Stored crops, one a photo (undefined when absent); `fail` makes the record's error. */
export function readCrops(raw: unknown, photos: number, fail: (why: string) => Error): PhotoCrop[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length !== photos || !raw.every(isPhotoCrop)) throw fail('its photo crops are not one square a photo');
  return raw.map((c) => ({ x: c.x, y: c.y, size: c.size }));
}
