/**
 * Model ids name the weights, not the place they were asked for:
 *   - hub: `hf:[<endpoint host>/]<repo>@<commit>`: the endpoint when it is not huggingface.co,
 *     the commit sha when the hub names it (X-Repo-Commit), else the revision asked for;
 *   - local folder: `local:<folder>#<12 hex>`, a fingerprint of its weights (`folderFingerprint`).
 * A model's `name` is the readable part (`owner/name`, `owner/name@v2`, `tiny-sd`, `shapes-sd`):
 * what the studio shows, and what concepts and records made before these ids are matched on.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { SafetensorsFile } from '../safetensors-reader';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** `huggingface.co` is left out; any other endpoint is named by host (and path, for mirrors under one). */
export function hubModelId(baseUrl: string, repo: string, revision: string): string {
  const url = new URL(baseUrl);
  const endpoint = url.origin === new URL(DEFAULT_HUB_URL).origin ? '' : `${url.host}${url.pathname.replace(/\/+$/, '')}/`;
  return `hf:${endpoint}${repo}@${revision}`;
}

/** `owner/name`, with `@revision` unless it is `main`. */
export function hubModelName(repo: string, revision: string): string {
  return revision === 'main' ? repo : `${repo}@${revision}`;
}

const COMMIT_SHA = /^[0-9a-f]{40}$/;

/** The commit the hub says a response came from (its X-Repo-Commit header), when it says one. */
export function repoCommit(headers: Headers): string | undefined {
  const sha = headers.get('X-Repo-Commit')?.trim().toLowerCase();
  return sha && COMMIT_SHA.test(sha) ? sha : undefined;
}

export function isCommitSha(revision: string): boolean {
  return COMMIT_SHA.test(revision);
}

/** `local:<name>#<first 12 hex of the fingerprint>`. */
export function localModelId(name: string, fingerprint: string): string {
  return `local:${name}#${fingerprint.slice(0, 12)}`;
}

/** Bytes read either side of each tensor boundary (the end of one tensor, the start of the next). */
const SAMPLE = 32;

/**
 * SHA-256 over the folder's safetensors files, sorted by path: for each its path, byte size, header
 * (length and JSON), and the 64 bytes around every tensor boundary of its data, so a tensor whose
 * values changed (negated, retrained) changes the fingerprint while only headers and a few bytes per
 * tensor are read, never whole files. A change that leaves every tensor's first and last values
 * alone goes unseen: it is a fingerprint, not a checksum. A file whose header does not parse adds
 * its path and size only (loading it refuses it anyway).
 */
export async function folderFingerprint(files: ReadonlyMap<string, Blob>): Promise<string> {
  const hash = sha256.create();
  const text = new TextEncoder();
  const weights = [...files.keys()].filter((p) => p.endsWith('.safetensors')).sort();
  for (const path of weights) {
    const blob = files.get(path)!;
    hash.update(text.encode(`${JSON.stringify(path)} ${blob.size}\n`));
    let file: SafetensorsFile;
    try {
      file = await SafetensorsFile.open(blob, path);
    } catch {
      continue;
    }
    hash.update(await bytes(blob, 0, file.dataStart));
    const boundaries = new Set([0, blob.size - file.dataStart]);
    for (const name of file.names()) for (const offset of file.info(name).dataOffsets) boundaries.add(offset);
    for (const at of [...boundaries].sort((a, b) => a - b)) {
      const start = file.dataStart + at;
      hash.update(await bytes(blob, Math.max(file.dataStart, start - SAMPLE), Math.min(blob.size, start + SAMPLE)));
    }
  }
  return bytesToHex(hash.digest());
}

async function bytes(blob: Blob, begin: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(begin, end).arrayBuffer());
}

/**
 * The readable name in an id, old-style or new: `builtin:shapes-sd` → `shapes-sd`,
 * `local:tiny-sd#3f…` → `tiny-sd`, `hf:a/b@main` → `a/b`, `hf:a/b@v2` → `a/b@v2`; a plain name
 * (a concept's base model, a file's metadata) stays as it is. Hub ids with an endpoint or a commit
 * give no name back (the revision asked for is not in them): keep the model's `name` beside them.
 */
export function nameOfId(id: string): string {
  return id.replace(/^(builtin|local|hf):/, '').replace(/#[0-9a-f]+$/, '').replace(/@main$/, '');
}

/** Whether a concept's base model (an id, old-style or new, or a plain name) is the loaded model, by id or else by name. */
export function namesModel(baseModel: string, loaded: Required<ModelRef>): boolean {
  return baseModel === loaded.id || nameOfId(baseModel) === loaded.name;
}

/** A model as a record names it: its id and, from records made since ids name weights, its name. */
export interface ModelRef {
  id: string;
  /** Absent in records made before ids named the weights. */
  name?: string;
}

/**
 * Whether a record's model is the loaded one: 'same' when the ids are; for a record made before ids
 * named the weights (no name), 'same-name' when its old-style id names the loaded model (the
 * weights cannot be checked); else 'other'.
 */
export function matchModel(recorded: ModelRef, loaded: Required<ModelRef>): 'same' | 'same-name' | 'other' {
  if (recorded.id === loaded.id) return 'same';
  if (recorded.name === undefined && nameOfId(recorded.id) === loaded.name) return 'same-name';
  return 'other';
}
