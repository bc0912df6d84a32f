import { describe, expect, it } from 'vitest';
import { fileLine, importNotice } from './import-notice';

describe('the import notice', () => {
  it('names a file once, whether or not the refusal starts with its name', () => {
    expect(fileLine('sd15-style.safetensors', "sd15-style.safetensors: the embedding's vectors are 768 wide")).toBe("sd15-style.safetensors: the embedding's vectors are 768 wide");
    expect(fileLine('empty.pt', 'empty.pt is empty (0 bytes).')).toBe('empty.pt is empty (0 bytes).');
    expect(fileLine('x.safetensors', 'Not a safetensors file.')).toBe('x.safetensors: Not a safetensors file.');
  });

  it('lists each refused file on its own line, then the notes; what was imported goes in the hint', () => {
    const notice = importNotice({
      imported: ['<a>'],
      notes: [{ fileName: 'a b.safetensors', note: 'its token <a> comes from the file name' }],
      refused: [
        { fileName: 'sd15-style.safetensors', message: 'sd15-style.safetensors: 768 wide' },
        { fileName: 'evil.pt', message: 'evil.pt: a pickle (protocol 4), refused unread.' },
      ],
    });
    expect(notice).toEqual({
      tone: 'error',
      message: 'These 2 files were not imported:',
      items: ['sd15-style.safetensors: 768 wide', 'evil.pt: a pickle (protocol 4), refused unread.', 'a b.safetensors: its token <a> comes from the file name'],
      hint: 'Imported <a>. The library is unchanged for the files that were refused.',
    });
  });

  it('says what was imported when nothing was refused', () => {
    expect(importNotice({ imported: ['<a>', '<b>'], notes: [], refused: [] })).toEqual({ tone: 'ok', message: 'Imported <a>, <b>.' });
    expect(importNotice({ imported: [], notes: [], refused: [{ fileName: 'e.pt', message: 'e.pt is empty (0 bytes).' }] })).toMatchObject({ message: 'This file was not imported:', hint: 'The library is unchanged for the files that were refused.' });
  });
});
