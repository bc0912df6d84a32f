/**
 * Training photos in the page: each decoded straight at the training size (`createImageBitmap`
 * cuts the person's square crop (`library/photo-crop.ts`; the centred square by default), turns
 * it upright by its EXIF orientation and resizes it, so the full image is never drawn on a
 * canvas), then laid out as the engine wants them ([N, 3, size, size], NCHW, values in [-1, 1]).
 * The photos never leave this device: they go to the engine worker in this tab, nowhere else.
 */
import { headerBytes, MIN_PHOTO_SIDE, photoRefusal, photosRefused, pixelRefusal, screenPhoto } from '../engine/photo-rules';
import { shownSize } from '../engine/image-header';
import { putTrainingImage } from '../train/training-input';
import { CENTRE_CROP, cropRect, type PhotoCrop } from '../library/photo-crop';

const refused = (message: string) => photosRefused([message]);

/**
 * The `crop` square of `file` at size × size, upright; a PhotoRefused error naming the file when
 * it is no image, too large or too small (MIN_PHOTO_SIDE).
 */
export async function squarePhoto(file: File, size: number, crop: PhotoCrop = CENTRE_CROP): Promise<ImageBitmap> {
  const screened = screenPhoto(file.name, await headerBytes(file), file.type, MIN_PHOTO_SIDE);
  if ('refusal' in screened) throw refused(screened.refusal);
  const resize: ImageBitmapOptions = { resizeWidth: size, resizeHeight: size, resizeQuality: 'high', imageOrientation: 'from-image' };
  const undecodable = () => {
    throw refused(photoRefusal.undecodable(file.name));
  };
  if (screened.header) {
    // The rectangle is in the upright image's pixels: Chromium crops after applying the EXIF orientation.
    const { width, height } = shownSize(screened.header);
    const { sx, sy, side } = cropRect(width, height, crop);
    return createImageBitmap(file, sx, sy, side, side, resize).catch(undecodable);
  }
  // A format whose header the studio does not read (AVIF, HEIC in Safari): the browser decodes it whole, then its size is checked.
  const whole = await createImageBitmap(file, { imageOrientation: 'from-image' }).catch(undecodable);
  try {
    const refusal = pixelRefusal(file.name, whole.width, whole.height, MIN_PHOTO_SIDE);
    if (refusal) throw refused(refusal);
    const { sx, sy, side } = cropRect(whole.width, whole.height, crop);
    return await createImageBitmap(whole, sx, sy, side, side, resize);
  } finally {
    whole.close();
  }
}

/** The photos as the engine's training input, each by its crop (`crops[n]`, the centre where absent), one at a time through one size × size canvas. */
export async function photosToTensorData(files: readonly File[], size: number, crops: readonly (PhotoCrop | undefined)[] = []): Promise<Float32Array> {
  const out = new Float32Array(files.length * 3 * size * size);
  const ctx = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true })!;
  for (const [n, file] of files.entries()) {
    const bitmap = await squarePhoto(file, size, crops[n]);
    ctx.clearRect(0, 0, size, size);
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    putTrainingImage(out, n, ctx.getImageData(0, 0, size, size).data, size);
  }
  return out;
}
