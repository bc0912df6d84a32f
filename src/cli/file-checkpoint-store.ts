/**
 * Training checkpoints on disk for the command line: one file per run, `<dir>/<run id>.checkpoint`,
 * the checkpoint as `node:v8` serializes it (the structured clone IndexedDB keeps in the browser:
 * Float32Arrays and numbers come back bit for bit). Writes go to a temporary file that is synced
 * and then renamed over the old one, so a crash or a full disk never leaves half a checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { errorMessage, StudioError } from '../common/errors';
import { restoreCheckpoint, summarize, type Checkpoint, type CheckpointSummary } from '../train/checkpoint';
import type { CheckpointStore } from '../train/checkpoint-store';

const EXTENSION = '.checkpoint';
const DISK_HINT = 'Free disk space, or write the run somewhere else with --out.';

export class FileCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string) {}

  /** The file that holds run `id`. */
  path(id: string): string {
    if (!/^[^/\\\0]+$/.test(id) || id === '.' || id === '..') throw new StudioError('InvalidRequest', `'${id}' cannot name a checkpoint file.`);
    return join(this.dir, id + EXTENSION);
  }

  async put(id: string, checkpoint: Checkpoint): Promise<void> {
    const path = this.path(id);
    const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      const file = await open(temp, 'w');
      try {
        await file.writeFile(serialize(checkpoint));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      const full = (error as NodeJS.ErrnoException).code === 'ENOSPC';
      throw new StudioError(full ? 'StorageQuotaExceeded' : 'StorageUnavailable', `Could not save checkpoint ${path}: ${errorMessage(error)}`, DISK_HINT, { cause: error });
    }
  }

  async get(id: string): Promise<Checkpoint | null> {
    const path = this.path(id);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StudioError('StorageUnavailable', `Could not read checkpoint ${path}: ${errorMessage(error)}`, DISK_HINT, { cause: error });
    }
    let raw: unknown;
    try {
      raw = deserialize(bytes);
    } catch (error) {
      throw new StudioError('CheckpointUnreadable', `${path} is not a checkpoint the studio can read (${errorMessage(error)}).`, `Delete ${path} and start the training again.`);
    }
    try {
      return restoreCheckpoint(raw);
    } catch (error) {
      throw error instanceof StudioError ? new StudioError(error.name, `${path}: ${error.message}`, `Delete ${path} and start the training again.`) : error;
    }
  }

  async delete(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  /** Every readable checkpoint in the folder, oldest first (temporary files and others are skipped). */
  async list(): Promise<CheckpointSummary[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: CheckpointSummary[] = [];
    for (const name of names.filter((n) => n.endsWith(EXTENSION))) {
      const id = name.slice(0, -EXTENSION.length);
      const checkpoint = await this.get(id).catch(() => null);
      if (checkpoint) out.push(summarize(id, checkpoint));
    }
    return out.sort((a, b) => a.created - b.created);
  }
}
