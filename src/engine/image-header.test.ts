import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { bmpHeader, gifHeader, jpegHeader, pngHeader, webpHeader } from '../test/image-headers';
import { readImageHeader, shownSize } from './image-header';

/** A real JPEG with an EXIF APP1 segment saying `orientation` right after SOI. */
function jpegWithOrientation(width: number, height: number, orientation: number): Uint8Array {
  const jpeg = new Uint8Array(encodeJpeg({ width, height, data: new Uint8Array(width * height * 4) }, 90).data);
  const tiff = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  const body = [...'Exif'].map((c) => c.charCodeAt(0)).concat([0, 0], tiff);
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body, ...jpeg.subarray(2)]);
}

describe('image header', () => {
  it('reads the size of real PNG and JPEG files', () => {
    expect(readImageHeader(encodePng({ width: 6, height: 4, data: new Uint8Array(96), channels: 4 }))).toEqual({ format: 'png', width: 6, height: 4, orientation: 1 });
    expect(readImageHeader(new Uint8Array(encodeJpeg({ width: 5, height: 3, data: new Uint8Array(60) }).data))).toEqual({ format: 'jpeg', width: 5, height: 3, orientation: 1 });
  });

  it('reads a 20000 × 20000 PNG from its first 33 bytes', () => {
    expect(readImageHeader(pngHeader(20000, 20000))).toMatchObject({ format: 'png', width: 20000, height: 20000 });
  });

  it('reads JPEG frames past other segments, baseline or progressive', () => {
    expect(readImageHeader(jpegHeader(4032, 3024))).toMatchObject({ format: 'jpeg', width: 4032, height: 3024 });
    expect(readImageHeader(jpegHeader(640, 480, { progressive: true }))).toMatchObject({ width: 640, height: 480 });
  });

  it('reads WebP (lossy, lossless, extended), GIF and BMP', () => {
    expect(readImageHeader(webpHeader('VP8 ', 300, 200))).toMatchObject({ format: 'webp', width: 300, height: 200 });
    expect(readImageHeader(webpHeader('VP8L', 16383, 2))).toMatchObject({ format: 'webp', width: 16383, height: 2 });
    expect(readImageHeader(webpHeader('VP8X', 20000, 9000))).toMatchObject({ format: 'webp', width: 20000, height: 9000 });
    expect(readImageHeader(gifHeader(320, 240))).toMatchObject({ format: 'gif', width: 320, height: 240 });
    expect(readImageHeader(bmpHeader(7, 9))).toMatchObject({ format: 'bmp', width: 7, height: 9 });
  });

  it('gives a JPEG its EXIF orientation; 5–8 swap the shown size', () => {
    const header = readImageHeader(jpegWithOrientation(16, 8, 6))!;
    expect(header).toEqual({ format: 'jpeg', width: 16, height: 8, orientation: 6 });
    expect(shownSize(header)).toEqual({ width: 8, height: 16 });
    expect(shownSize(readImageHeader(jpegWithOrientation(16, 8, 3))!)).toEqual({ width: 16, height: 8 });
  });

  it('knows nothing of text, a header cut short or a zero size', () => {
    expect(readImageHeader(new TextEncoder().encode('just some notes, renamed .jpg'))).toBeNull();
    expect(readImageHeader(pngHeader(10, 10).subarray(0, 20))).toBeNull();
    expect(readImageHeader(jpegHeader(10, 10).subarray(0, 22))).toBeNull();
    expect(readImageHeader(pngHeader(0, 10))).toBeNull();
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2, 0, 0, 0, 0]))).toBeNull(); // scan before any frame
  });
});
