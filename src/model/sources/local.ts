/**
 * A model folder on the user's disk: picked with `<input type="file" webkitdirectory>` (a
 * `FileList` whose files carry `webkitRelativePath`), dropped (walk the entries with
 * `filesFromEntries`), or any map of path → Blob. The model root is the folder holding
 * model_index.json, found however deep the picked folder put it (the shallowest one wins).
 */
import { folderFingerprint, localModelId } from './model-id';
import { ModelSourceError, type ModelSource } from './types';

/**
 * Its id is `local:<folder>#<fingerprint>` (`model-id.ts`: headers and a few bytes per tensor), so
 * two folders of one name with other weights are two models; dropped files without a folder are
 * named `folder`.
 */
export class LocalFolderSource implements ModelSource {
  readonly id: string;
  readonly name: string;
  /** The root folder's path inside what was given ('' when it was the top). */
  readonly root: string;
  private readonly files: Map<string, Blob>;

  private constructor(name: string, fingerprint: string, root: string, files: Map<string, Blob>) {
    this.id = localModelId(name, fingerprint);
    this.name = name;
    this.root = root;
    this.files = files;
  }

  /** From picked files; each file's path is its `webkitRelativePath` (else its name). */
  static fromFiles(files: FileList | Iterable<File>): Promise<LocalFolderSource> {
    const entries: [string, Blob][] = [];
    for (const file of Array.from(files as Iterable<File>)) entries.push([file.webkitRelativePath || file.name, file]);
    return LocalFolderSource.fromEntries(entries);
  }

  /** From paths (relative, '/' or '\\' separated) and their contents. */
  static async fromEntries(entries: Iterable<[string, Blob]> | Map<string, Blob> | Record<string, Blob>): Promise<LocalFolderSource> {
    const list: [string, Blob][] = Symbol.iterator in Object(entries)
      ? [...(entries as Iterable<[string, Blob]>)]
      : Object.entries(entries as Record<string, Blob>);
    const all = new Map(list.map(([path, blob]) => [normalizePath(path), blob] as [string, Blob]));
    const root = findModelRoot([...all.keys()]);
    const files = new Map<string, Blob>();
    for (const [path, blob] of all) if (path.startsWith(root)) files.set(path.slice(root.length), blob);
    const name = root.replace(/\/$/, '').split('/').pop() || 'folder';
    return new LocalFolderSource(name, await folderFingerprint(files), root, files);
  }

  async stat(path: string): Promise<{ size?: number } | null> {
    const blob = this.files.get(path);
    return blob ? { size: blob.size } : null;
  }

  async file(path: string): Promise<Blob> {
    const blob = this.files.get(path);
    if (!blob) throw new ModelSourceError('not-found', `${path} is missing from the model folder '${this.name}'.`, { file: path });
    return blob;
  }

  list(): string[] {
    return [...this.files.keys()].sort();
  }
}

function normalizePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.?\/+/, '');
}

/** The prefix ('' or 'a/b/') of the shallowest folder holding model_index.json. */
export function findModelRoot(paths: readonly string[]): string {
  const indexes = paths.filter((p) => p === 'model_index.json' || p.endsWith('/model_index.json'));
  if (indexes.length === 0) {
    throw new ModelSourceError(
      'not-a-model',
      'This folder holds no model_index.json: pick the folder of a diffusers model (the one with model_index.json, unet/, vae/, ...).',
      { file: 'model_index.json' },
    );
  }
  const depth = (p: string) => p.split('/').length;
  const shallowest = Math.min(...indexes.map(depth));
  const roots = indexes.filter((p) => depth(p) === shallowest);
  if (roots.length > 1) {
    throw new ModelSourceError('not-a-model', `This folder holds several models (${roots.join(', ')}): pick one of their folders.`);
  }
  return roots[0].slice(0, -'model_index.json'.length);
}

/** Most entries a dropped folder may hold (a model has about 20 files). */
const MAX_DROPPED_ENTRIES = 10_000;

/**
 * Walks dropped entries (`DataTransferItem.webkitGetAsEntry()`) into path → File, paths relative
 * to the dropped items' parent, ready for `LocalFolderSource.fromEntries`.
 */
export async function filesFromEntries(entries: readonly FileSystemEntry[]): Promise<Map<string, File>> {
  const files = new Map<string, File>();
  const queue = [...entries];
  for (let seen = 0; queue.length > 0; seen++) {
    if (seen >= MAX_DROPPED_ENTRIES) throw new ModelSourceError('not-a-model', `The dropped folder holds more than ${MAX_DROPPED_ENTRIES} entries; drop the model folder itself.`);
    const entry = queue.shift()!;
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      files.set(entry.fullPath.replace(/^\/+/, ''), file);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns batches (100 in Chrome) until an empty one.
      for (let batch = 0; batch < MAX_DROPPED_ENTRIES; batch++) {
        const children = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (children.length === 0) break;
        queue.push(...children);
      }
    }
  }
  return files;
}
