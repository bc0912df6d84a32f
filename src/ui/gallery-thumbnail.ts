/**
 * A gallery image's thumbnail, made in the page from the engine's pixels: scaled by
 * createImageBitmap and encoded by an OffscreenCanvas (both asynchronous), WebP where the
 * browser encodes it, else PNG (convertToBlob's own fallback).
 */
import type { RgbaImage } from '../engine/protocol';

export const THUMBNAIL_SIZE = 256;

/** The thumbnail's size: the longer side at most `max`, never enlarged. */
export function thumbnailSize(width: number, height: number, max = THUMBNAIL_SIZE): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export async function thumbnailOf(image: RgbaImage): Promise<Blob> {
  const size = thumbnailSize(image.width, image.height);
  const pixels = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  const bitmap = await createImageBitmap(pixels, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
  try {
    const canvas = new OffscreenCanvas(size.width, size.height);
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
    return await canvas.convertToBlob({ type: 'image/webp', quality: 0.85 });
  } finally {
    bitmap.close();
  }
}
