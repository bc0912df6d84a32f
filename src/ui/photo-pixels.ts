/** Photos as the feature models read them: the centred (or chosen) square, upright, as RGBA pixels. */
import type { RgbaImage } from '../engine/protocol';
import type { PhotoCrop } from '../library/photo-crop';
import { squarePhoto } from './photos';

/** CLIP B/32 and DINOv2-small both look at 224 × 224. */
export const FEATURE_PHOTO_SIZE = 224;

export async function photoPixels(photo: Blob, size = FEATURE_PHOTO_SIZE, crop?: PhotoCrop): Promise<RgbaImage> {
  const file = photo instanceof File ? photo : new File([photo], 'photo', { type: photo.type });
  const bitmap = await squarePhoto(file, size, crop);
  const ctx = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { width: size, height: size, data: ctx.getImageData(0, 0, size, size).data };
}
