/** A `ModelSource` over a folder on disk, for the Node command-line tools. */
import { existsSync, openAsBlob, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ModelSourceError, type ModelSource } from './types';

export function nodeFolderSource(root: string): ModelSource {
  const resolve = (path: string) => join(root, ...path.split('/'));
  return {
    id: `folder:${root}`,
    async stat(path) {
      const full = resolve(path);
      return existsSync(full) ? { size: statSync(full).size } : null;
    },
    async file(path) {
      const full = resolve(path);
      if (!existsSync(full)) throw new ModelSourceError('not-found', `${path} is missing from ${root}.`, { file: path });
      return openAsBlob(full);
    },
    list() {
      const out: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
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
