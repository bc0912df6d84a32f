/** A `ModelSource` over a folder on disk, for the Node command-line tools. */
import { existsSync, openAsBlob, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_MODEL_ID } from './builtin';
import { nameOfId } from './model-id';
import { ModelSourceError, type ModelSource } from './types';

/** The built-in model's folder in this checkout (what the app serves as static files). */
export const BUILTIN_MODEL_DIR = fileURLToPath(new URL('../../../public/models/shapes-sd', import.meta.url));

/** The built-in model, read from disk. */
export function nodeBuiltinSource(): ModelSource {
  return nodeFolderSource(BUILTIN_MODEL_DIR, BUILTIN_MODEL_ID);
}

/** For tools and tests; the CLI and the page read folders as `LocalFolderSource`s (fingerprinted ids). */
export function nodeFolderSource(root: string, id = `folder:${root}`): ModelSource {
  const resolve = (path: string) => join(root, ...path.split('/'));
  return {
    id,
    name: id.startsWith('folder:') ? basename(root) : nameOfId(id),
    async stat(path) {
      const full = resolve(path);
      return existsSync(full) ? { size: statSync(full).size } : null;
    },
    async file(path) {
      const full = resolve(path);
      if (!existsSync(full)) throw new ModelSourceError('not-found', `${path} is missing from ${root}.`, { file: path });
      return openAsBlob(full);
    },
    /** Every file, leaving out dot-entries (a cloned repo's .git, a cache folder). */
    list() {
      const out: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.name.startsWith('.')) continue;
          const full = join(dir, entry.name);
          if (entry.isDirectory()) walk(full);
          else out.push(relative(root, full).split(sep).join('/'));
        }
      };
      walk(root);
      return out;
    },
  };
}
