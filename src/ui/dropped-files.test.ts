import { describe, expect, it } from 'vitest';
import { droppedFiles, pastedImages, pastedName, type DroppedEntry } from './dropped-files';

/** A file or folder as the browser's FileSystemEntry API hands it over; folders read two entries a call, as browsers read in batches. */
function file(name: string, type: string): DroppedEntry {
  return { isFile: true, isDirectory: false, name, file: (done: (f: File) => void) => done(new File(['x'], name, { type })) } as DroppedEntry;
}
function folder(name: string, children: DroppedEntry[]): DroppedEntry {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      return { readEntries: (done: (e: DroppedEntry[]) => void) => done(children.slice(at, (at += 2))) };
    },
  } as DroppedEntry;
}

describe('dropped files', () => {
  it("reads a folder's images, its subfolders' too, by name, and says what else it left out", async () => {
    const holiday = folder('holiday', [
      file('c.jpg', 'image/jpeg'),
      file('notes.txt', 'text/plain'),
      folder('more', [file('b.png', 'image/png'), file('.DS_Store', '')]),
      file('a.webp', 'image/webp'),
    ]);
    const loose = new File(['y'], 'loose.txt', { type: 'text/plain' });
    const { files, notes } = await droppedFiles([loose, holiday], 50);
    // Loose files stay, whatever they are: screening names each refused one.
    expect(files.map((f) => f.name)).toEqual(['loose.txt', 'a.webp', 'c.jpg', 'b.png']);
    expect(notes).toEqual(['holiday: 2 files that are not images were left out']);
  });

  it('stops reading folders at the room left, and says so', async () => {
    const many = folder('many', Array.from({ length: 9 }, (_, i) => file(`p${i}.png`, 'image/png')));
    const { files, notes } = await droppedFiles([many], 3);
    expect(files.map((f) => f.name)).toEqual(['p0.png', 'p1.png', 'p2.png']);
    expect(notes).toEqual(['many: holds more photos than a concept takes; the first ones by name were read']);
    expect((await droppedFiles([many], 9)).notes).toEqual([]);
  });

  it('names a pasted image by when it was pasted, and takes only images', () => {
    const at = new Date(2025, 0, 2, 13, 4, 5);
    expect(pastedName('image/png', at, 0)).toBe('pasted-20250102-130405-1.png');
    expect(pastedName('image/jpeg', at, 1)).toBe('pasted-20250102-130405-2.jpg');
    const data = { files: [new File(['p'], 'image.png', { type: 'image/png' }), new File(['t'], 'a.txt', { type: 'text/plain' })] } as unknown as DataTransfer;
    const pasted = pastedImages(data, at);
    expect(pasted.map((f) => [f.name, f.type])).toEqual([['pasted-20250102-130405-1.png', 'image/png']]);
    expect(pastedImages(null)).toEqual([]);
  });
});
