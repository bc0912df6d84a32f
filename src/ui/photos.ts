/**
 * Training photos in the page: decoded, centre-cropped to a square and resized on a canvas, then
 * laid out as the engine wants them ([N, 3, size, size], NCHW, values in [-1, 1]). The photos
 * never leave this device: they go to the engine worker in this tab, nowhere else.
 */
import { StudioError } from '../common/errors';
import { putTrainingImage } from '../engine/training-input';

export async function photosToTensorData(files: readonly File[], size: number): Promise<Float32Array> {
  const out = new Float32Array(files.length * 3 * size * size);
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  for (const [n, file] of files.entries()) {
    const bitmap = await createImageBitmap(file).catch(() => {
      throw new StudioError('InvalidRequest', `${file.name} is not an image this browser can read.`, 'Remove that photo, or add it again as a JPEG, PNG or WebP file.');
    });
    const side = Math.min(bitmap.width, bitmap.height);
    ctx.clearRect(0, 0, size, size);
    ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
    bitmap.close();
    putTrainingImage(out, n, ctx.getImageData(0, 0, size, size).data, size);
  }
  return out;
}
