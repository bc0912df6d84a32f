/** Test helpers around the tiny-sd fixture: its files as a picked folder, and frozen-weight checks. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StableDiffusionModel } from '../model/load';
import type { Weights } from '../model/weights';
import { nodeFolderSource } from '../model/sources/node-folder';

export const TINY_SD = new URL('./fixtures/tiny-sd', import.meta.url).pathname;

/** The folder's files as a page would get them from a drop: File objects and their paths. */
export function folderFiles(root: string, prefix = ''): { files: File[]; paths: string[] } {
  const paths = nodeFolderSource(root).list!();
  return { files: paths.map((p) => new File([readFileSync(join(root, p))], p.split('/').pop()!)), paths: paths.map((p) => prefix + p) };
}

/** Every stored weight of every component, as raw bytes. */
export async function snapshotWeights(model: StableDiffusionModel): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const components: [string, Weights][] = [['text', model.text.weights], ['unet', model.unet.weights], ['vae', model.vae.weights]];
  for (const [component, w] of components) {
    for (const name of w.names()) {
      const data = await w.stored(name).data();
      out.set(`${component}/${name}`, new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
    }
  }
  return out;
}

/** Names of weights whose bytes differ from `before`, or that appeared or went missing. */
export async function changedWeights(model: StableDiffusionModel, before: Map<string, Uint8Array>): Promise<string[]> {
  const now = await snapshotWeights(model);
  const names = new Set([...now.keys(), ...before.keys()]);
  return [...names].filter((name) => {
    const [a, b] = [now.get(name), before.get(name)];
    return !a || !b || !Buffer.from(a).equals(Buffer.from(b));
  });
}

/** A safetensors file's bytes with the sign of every value of `tensors` (default: all) flipped (F16/BF16/F32). */
export function signFlipped(bytes: Uint8Array, tensors?: readonly string[]): Uint8Array {
  const out = bytes.slice();
  const n = Number(new DataView(out.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__' || (tensors && !tensors.includes(name))) continue;
    const width = info.dtype === 'F32' ? 4 : 2;
    for (let at = 8 + n + info.data_offsets[0]; at < 8 + n + info.data_offsets[1]; at += width) out[at + width - 1] ^= 0x80;
  }
  return out;
}
