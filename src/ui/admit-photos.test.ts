/**
 * Which files the New concept form takes (no DOM). Node has no createImageBitmap, so a real PNG
 * decoder (fast-png) decodes in the browser's place; what is refused by type and header is
 * refused before any decoder sees it.
 */
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { pngHeader } from '../test/image-headers';
import { admitPhotos } from './admit-photos';

const png = (name: string) => new File([encodePng({ width: 2, height: 2, data: new Uint8Array(16).fill(200), channels: 4 }) as Uint8Array<ArrayBuffer>], name, { type: 'image/png' });
const text = (name: string, type: string) => new File(['dear diary, today I renamed a text file'], name, { type });

/** fast-png in the browser's place, recording what it was asked to decode. */
function pngDecoder() {
  const decoded: string[] = [];
  const decode = async (file: File) => {
    decoded.push(file.name);
    decodePng(new Uint8Array(await file.arrayBuffer()));
  };
  return { decoded, decode };
}

describe('adding photos', () => {
  it('decodes each photo as it is added: a text file renamed .jpg is refused by name, the PNG is kept', async () => {
    const { decoded, decode } = pngDecoder();
    const cat = png('cat.png');
    const result = await admitPhotos([text('notes.jpg', 'image/jpeg'), cat], 0, decode);
    expect(result).toEqual({ added: [cat], refused: ['notes.jpg: not an image the browser can decode'] });
    expect(decoded).toEqual(['notes.jpg', 'cat.png']);
  });

  it('refuses a 20000 × 20000 PNG and a file without a type before decoding them, one message each', async () => {
    const { decoded, decode } = pngDecoder();
    const huge = new File([pngHeader(20000, 20000)], 'huge.png', { type: 'image/png' });
    const heic = text('IMG_0042.HEIC', '');
    const result = await admitPhotos([huge, heic, text('notes.txt', 'text/plain')], 0, decode);
    expect(result.added).toEqual([]);
    expect(result.refused).toEqual([
      'huge.png: 20000×20000 is over the 40-megapixel limit',
      'IMG_0042.HEIC: no file type (HEIC photos from Windows?): convert to JPEG or PNG',
      'notes.txt: not an image the browser can decode',
    ]);
    expect(decoded).toEqual([]);
  });

  it('takes photos up to 50 a concept, refused ones not counted, and says how many were left out', async () => {
    const { decoded, decode } = pngDecoder();
    const [a, b, c, d] = ['a.png', 'b.png', 'c.png', 'd.png'].map(png);
    const result = await admitPhotos([a, text('bad.jpg', 'image/jpeg'), b, c, d], 48, decode);
    expect(result).toEqual({ added: [a, b], refused: ['bad.jpg: not an image the browser can decode', 'only 50 photos per concept: 2 were left out'] });
    expect(decoded).toEqual(['a.png', 'bad.jpg', 'b.png']); // the photos left out are not decoded
    expect(await admitPhotos([png('e.png')], 50, decode)).toEqual({ added: [], refused: ['only 50 photos per concept: 1 was left out'] });
  });
});
