import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { jpegOrientation } from '../engine/image-header';
import { gifHeader, pngHeader } from '../test/image-headers';
import { decodePhoto, photosToTensorData, readPhotoFolder, squarePlanes } from './photos';

/** An RGBA PNG from a pixel function. */
function png(width: number, height: number, pixel: (x: number, y: number) => number[]): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  return encodePng({ width, height, data, channels: 4, depth: 8 });
}

/** A baseline JPEG with an EXIF APP1 segment saying `orientation`, right after SOI. */
function jpegWithOrientation(width: number, height: number, pixel: (x: number, y: number) => number[], orientation: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  const jpeg = new Uint8Array(encodeJpeg({ width, height, data }, 95).data);
  // 'Exif\0\0', TIFF little-endian header, IFD0 at 8 with one entry: 0x0112 SHORT 1 = orientation.
  const tiff = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  const body = [...'Exif'].map((c) => c.charCodeAt(0)).concat([0, 0], tiff);
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return Uint8Array.from([...jpeg.subarray(0, 2), ...app1, ...jpeg.subarray(2)]);
}

const RED = [255, 0, 0, 255];
const BLUE = [0, 0, 255, 255];

describe('training photos', () => {
  it('centre-crops to a square and shrinks by area average, into NCHW in [-1, 1]', () => {
    // 6 × 4: columns 0 and 5 fall outside the square; each output pixel averages a 2 × 2 block.
    const image = decodePhoto(png(6, 4, (x, y) => [x * 40, y * 60, 100, 255]), 'grid.png');
    const planes = squarePlanes(image, 2);
    const at = (c: number, y: number, x: number) => planes[c * 4 + y * 2 + x] * 255;
    expect(at(0, 0, 0)).toBeCloseTo((40 + 80) / 2, 4);
    expect(at(0, 0, 1)).toBeCloseTo((120 + 160) / 2, 4);
    expect(at(1, 0, 0)).toBeCloseTo((0 + 60) / 2, 4);
    expect(at(1, 1, 1)).toBeCloseTo((120 + 180) / 2, 4);
    expect(at(2, 1, 0)).toBeCloseTo(100, 4);
    const tensor = photosToTensorData([image, image], 2);
    expect(tensor).toHaveLength(2 * 3 * 2 * 2);
    expect(tensor[0]).toBeCloseTo((60 / 255) * 2 - 1, 5);
    expect(tensor[12 + 4]).toBeCloseTo((30 / 255) * 2 - 1, 5); // second image, green plane
  });

  it('enlarges bilinearly from pixel centres, edges clamped', () => {
    const image = decodePhoto(png(2, 2, (x) => [x * 255, 0, 0, 255]), 'two.png');
    const row = [...squarePlanes(image, 4).subarray(0, 4)];
    row.forEach((v, i) => expect(v).toBeCloseTo([0, 0.25, 0.75, 1][i], 5));
  });

  it('filters in premultiplied alpha, as a canvas does: a transparent pixel adds no colour', () => {
    // 2 × 1: the centred 1 × 1 square covers half of each pixel.
    const image = decodePhoto(png(2, 1, (x) => (x === 0 ? [255, 0, 0, 0] : BLUE)), 'alpha.png');
    expect([...squarePlanes(image, 1)]).toEqual([0, 0, 1]);
  });

  it('reads 16-bit grey and palette PNGs', () => {
    const grey = encodePng({ width: 1, height: 1, data: Uint16Array.from([32768]), channels: 1, depth: 16 });
    expect(squarePlanes(decodePhoto(grey, 'grey.png'), 1)[0]).toBeCloseTo(32768 / 65535, 6);
    const indexed = encodePng({ width: 1, height: 1, data: Uint8Array.from([1]), channels: 1, depth: 8, palette: [[0, 0, 0], [0, 255, 0]] });
    expect([...squarePlanes(decodePhoto(indexed, 'palette.png'), 1)]).toEqual([0, 1, 0]);
  });

  it('turns a JPEG upright by its EXIF orientation (6: rotate 90° clockwise)', () => {
    const split = (x: number) => (x < 8 ? RED : BLUE);
    const bytes = jpegWithOrientation(16, 8, split, 6);
    expect(jpegOrientation(bytes)).toBe(6);
    const image = decodePhoto(bytes, 'phone.jpg');
    expect([image.width, image.height]).toEqual([8, 16]);
    const pixel = (x: number, y: number) => [...image.rgba.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 3)];
    expect(pixel(4, 3)[0]).toBeGreaterThan(200); // red on top
    expect(pixel(4, 12)[2]).toBeGreaterThan(200); // blue below
    expect(jpegOrientation(new Uint8Array(encodeJpeg({ width: 8, height: 8, data: new Uint8Array(256) }).data))).toBe(1);
  });

  describe('a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'studio-photos-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads its PNG and JPEG photos in name order and leaves other files out', async () => {
      writeFileSync(join(dir, 'b.PNG'), png(4, 4, () => BLUE));
      writeFileSync(join(dir, 'a.jpg'), jpegWithOrientation(4, 4, () => RED, 1));
      writeFileSync(join(dir, 'notes.txt'), 'hello');
      writeFileSync(join(dir, '.DS_Store'), 'x');
      const folder = await readPhotoFolder(dir, 8);
      expect(folder.files).toEqual(['a.jpg', 'b.PNG']);
      expect(folder.ignored).toEqual(['notes.txt']);
      expect(folder.leftOut).toEqual([]);
      expect(folder.images).toHaveLength(2 * 3 * 64);
      expect(folder.images[0]).toBeGreaterThan(0.8); // a.jpg first: red
      expect(folder.images[3 * 64 + 2 * 64]).toBeCloseTo(1, 5); // b.PNG: blue
    });

    it('refuses every photo that is no image or too large in one PhotoRefused error, one line each, and a folder without photos', async () => {
      writeFileSync(join(dir, 'c.png'), 'not really a png');
      writeFileSync(join(dir, 'd.png'), png(4, 4, () => RED).subarray(0, 50));
      writeFileSync(join(dir, 'e.jpg'), pngHeader(20000, 20000));
      const error = await readPhotoFolder(dir, 8).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'PhotoRefused', hint: expect.stringMatching(/40 megapixels/) });
      expect((error as Error).message.split('\n')).toEqual([
        `${join(dir, 'c.png')}: not an image the studio can decode`,
        `${join(dir, 'd.png')}: not an image the studio can decode`,
        `${join(dir, 'e.jpg')}: 20000×20000 is over the 40-megapixel limit`,
      ]);
      const empty = mkdtempSync(join(tmpdir(), 'studio-empty-'));
      await expect(readPhotoFolder(empty, 8)).rejects.toMatchObject({ message: expect.stringContaining('holds no PNG or JPEG photos') });
      await expect(readPhotoFolder(join(empty, 'missing'), 8)).rejects.toMatchObject({ message: expect.stringContaining('Cannot read the photo folder') });
      rmSync(empty, { recursive: true });
    });

    it('tells a photo by its header, not its name', () => {
      expect(decodePhoto(png(2, 2, () => BLUE), 'really-a-png.jpg')).toMatchObject({ width: 2, height: 2 });
      expect(() => decodePhoto(gifHeader(2, 2), 'anim.png')).toThrow('anim.png: not an image the studio can decode');
    });

    it('reads the first 50 photos in name order and leaves the rest out', async () => {
      const many = mkdtempSync(join(tmpdir(), 'studio-many-'));
      for (let i = 0; i < 52; i++) writeFileSync(join(many, `p${String(i).padStart(2, '0')}.png`), png(1, 1, () => RED));
      const folder = await readPhotoFolder(many, 1);
      expect(folder.files).toHaveLength(50);
      expect(folder.leftOut).toEqual(['p50.png', 'p51.png']);
      expect(folder.images).toHaveLength(50 * 3);
      rmSync(many, { recursive: true });
    });
  });
});
