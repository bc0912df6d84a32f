/**
 * The files of a drop or a paste. A dropped folder gives the images inside it, its subfolders
 * too, up to the number a concept still takes; a pasted image gets a name of its own.
 */

/** What is read of the browser's FileSystemEntry API (drag-and-drop's `webkitGetAsEntry`). */
export interface DroppedEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
}
interface FileEntry extends DroppedEntry {
  file(done: (file: File) => void, failed?: (error: unknown) => void): void;
}
interface FolderEntry extends DroppedEntry {
  createReader(): { readEntries(done: (entries: DroppedEntry[]) => void, failed?: (error: unknown) => void): void };
}

export interface DroppedFiles {
  files: File[];
  /** One line a folder for what was not read of it. */
  notes: string[];
}

/** A drop's loose files and folders, taken while the drop event lasts (its items go afterwards). */
export function dropItems(data: DataTransfer): (File | DroppedEntry)[] {
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file');
  if (items.length === 0) return Array.from(data.files);
  return items.flatMap((item): (File | DroppedEntry)[] => {
    const entry = item.webkitGetAsEntry?.();
    if (entry?.isDirectory) return [entry];
    const file = item.getAsFile();
    return file ? [file] : [];
  });
}

const readFile = (entry: FileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** All of a folder's entries: `readEntries` gives them in batches until an empty one. */
async function readFolder(folder: FolderEntry): Promise<DroppedEntry[]> {
  const reader = folder.createReader();
  const all: DroppedEntry[] = [];
  for (;;) {
    const batch = await new Promise<DroppedEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

/**
 * The files to screen: loose files as they are (each is screened and named if refused), and
 * the images (by type) in each folder, by name, at most `room` in all from folders.
 */
export async function droppedFiles(items: readonly (File | DroppedEntry)[], room: number): Promise<DroppedFiles> {
  const files: File[] = [];
  const notes: string[] = [];
  let fromFolders = 0;
  for (const item of items) {
    if (item instanceof File || !item.isDirectory) {
      files.push(item instanceof File ? item : await readFile(item as FileEntry));
      continue;
    }
    let others = 0;
    let full = false;
    const walk = async (folder: FolderEntry): Promise<void> => {
      const entries = (await readFolder(folder)).sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (full) return;
        if (entry.isDirectory) await walk(entry as FolderEntry);
        else if (entry.isFile) {
          const file = await readFile(entry as FileEntry);
          if (!file.type.startsWith('image/')) others++;
          else if (fromFolders >= room) full = true;
          else {
            files.push(file);
            fromFolders++;
          }
        }
      }
    };
    await walk(item as FolderEntry);
    if (full) notes.push(`${item.name}: holds more photos than a concept takes; the first ones by name were read`);
    if (others > 0) notes.push(`${item.name}: ${others} ${others === 1 ? 'file that is not an image was' : 'files that are not images were'} left out`);
  }
  return { files, notes };
}

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/svg+xml': 'svg' };

/** A pasted image's name: when it was pasted, e.g. `pasted-20250102-130405-1.png`. */
export function pastedName(type: string, at: Date, index: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${two(at.getMonth() + 1)}${two(at.getDate())}-${two(at.getHours())}${two(at.getMinutes())}${two(at.getSeconds())}`;
  const ext = EXTENSIONS[type] ?? (type.split('/')[1] || 'img');
  return `pasted-${stamp}-${index + 1}.${ext}`;
}

/** The images of a paste, each under a name of its own (the clipboard calls them all "image.png"). */
export function pastedImages(data: DataTransfer | null, at = new Date()): File[] {
  const images = Array.from(data?.files ?? []).filter((f) => f.type.startsWith('image/'));
  return images.map((f, i) => new File([f], pastedName(f.type, at, i), { type: f.type, lastModified: f.lastModified }));
}
