import { describe, expect, it } from 'vitest';
import { jpegHeader, pngHeader } from '../test/image-headers';
import { headerBytes, HEADER_BYTES, MAX_PHOTOS, photoRefusal, photoRoom, photosRefused, screenPhoto } from './photo-rules';

const text = new TextEncoder().encode('not an image');

describe('photo rules', () => {
  it('refuses a photo over 40 megapixels by its header, with its size', () => {
    expect(screenPhoto('huge.png', pngHeader(20000, 20000), 'image/png')).toEqual({ refusal: 'huge.png: 20000×20000 is over the 40-megapixel limit' });
    expect(screenPhoto('wide.jpg', jpegHeader(8000, 5001))).toEqual({ refusal: 'wide.jpg: 8000×5001 is over the 40-megapixel limit' });
    expect(screenPhoto('at-cap.jpg', jpegHeader(8000, 5000))).toMatchObject({ header: { width: 8000, height: 5000 } });
  });

  it('says a file without a type may be a HEIC photo, unless its header names an image', () => {
    expect(screenPhoto('IMG_0001.HEIC', text, '')).toEqual({ refusal: 'IMG_0001.HEIC: no file type (HEIC photos from Windows?): convert to JPEG or PNG' });
    expect(screenPhoto('photo', pngHeader(4, 4), '')).toMatchObject({ header: { format: 'png' } });
  });

  it('refuses, where asked, a photo under a minimum on its short side, with its size', () => {
    expect(screenPhoto('icon.png', pngHeader(200, 63), 'image/png', 64)).toEqual({ refusal: 'icon.png: 200×63 is too small (at least 64 px on the short side)' });
    expect(screenPhoto('tall.jpg', jpegHeader(63, 500), 'image/jpeg', 64)).toEqual({ refusal: 'tall.jpg: 63×500 is too small (at least 64 px on the short side)' });
    expect(screenPhoto('just.png', pngHeader(64, 900), 'image/png', 64)).toMatchObject({ header: { width: 64, height: 900 } });
    expect(screenPhoto('cli.png', pngHeader(4, 4))).toMatchObject({ header: { width: 4 } }); // no minimum unless asked
  });

  it('refuses a type that is no image; leaves a header it cannot read to the decoder', () => {
    expect(screenPhoto('notes.txt', text, 'text/plain')).toEqual({ refusal: 'notes.txt: not an image the browser can decode' });
    expect(screenPhoto('notes.jpg', text, 'image/jpeg')).toEqual({ header: null });
    expect(screenPhoto('notes.jpg', text)).toEqual({ header: null });
  });

  it('keeps room for 50 photos a concept and says how many were left out', () => {
    expect(MAX_PHOTOS).toBe(50);
    expect([photoRoom(0), photoRoom(48), photoRoom(50), photoRoom(60)]).toEqual([50, 2, 0, 0]);
    expect(photoRefusal.tooMany(3)).toBe('only 50 photos per concept: 3 were left out');
    expect(photoRefusal.tooMany(1)).toBe('only 50 photos per concept: 1 was left out');
  });

  it('lists every refusal in one PhotoRefused error', () => {
    const error = photosRefused(['a.jpg: not an image the browser can decode', 'b.png: 20000×20000 is over the 40-megapixel limit']);
    expect(error).toMatchObject({ name: 'PhotoRefused', message: 'a.jpg: not an image the browser can decode\nb.png: 20000×20000 is over the 40-megapixel limit' });
    expect(error.hint).toMatch(/40 megapixels/);
  });

  it('reads only the first MiB of a file for its header', async () => {
    const big = new Blob([pngHeader(10, 10), new Uint8Array(3 * HEADER_BYTES)]);
    const bytes = await headerBytes(big);
    expect(bytes.length).toBe(HEADER_BYTES);
    expect(screenPhoto('big.png', bytes)).toMatchObject({ header: { width: 10 } });
  });
});
