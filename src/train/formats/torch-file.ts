/**
 * A torch.save file, read without running anything. Since PyTorch 1.6 it is a zip whose entries
 * share one folder (the first path component: `archive/` or the file's stem): `data.pkl`, the
 * pickled object, names its storages by key; each storage's bytes are the entry `data/<key>`.
 * The pickle goes through the allow-listed reader; storages are read when a tensor is asked for.
 * The legacy format (before 1.6: pickles back to back) is recognised and refused by name.
 */
import { FormatError } from './errors';
import { unpickle } from './pickle';
import type { PickleValue, TensorRef } from './pickle-values';
import { tensorFloat32 } from './torch-tensor';
import { ZipArchive } from './zip';

/** What the legacy format starts with: PROTO 2, then LONG1 of torch's magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export function isLegacyTorchFile(head: Uint8Array): boolean {
  return head.length >= LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => head[i] === b);
}

export interface TorchFile {
  /** The unpickled object. */
  root: PickleValue;
  /** A tensor's values as float32; `what` names it in messages. */
  float32(tensor: TensorRef, what: string): Float32Array;
}

const ascii = new TextDecoder('latin1');

/** Opens the zip, checks the byte order, unpickles `data.pkl`. */
export function readTorchFile(bytes: Uint8Array, fileName: string): TorchFile {
  if (isLegacyTorchFile(bytes)) {
    throw new FormatError('pickle', `${fileName} was saved by PyTorch before 1.6 (the legacy format, not a zip); re-save it with a current torch or convert it to safetensors.`);
  }
  const zip = ZipArchive.open(bytes, fileName);
  const first = zip.names[0] ?? '';
  const slash = first.indexOf('/');
  if (slash <= 0) throw new FormatError('invalid', `${fileName}: a zip archive, but not one torch.save writes (its first entry '${first}' is not in a folder).`);
  const folder = first.slice(0, slash + 1);
  const pickle = `${folder}data.pkl`;
  if (!zip.has(pickle)) throw new FormatError('invalid', `${fileName}: a zip archive, but not one torch.save writes (no ${pickle}).`);
  if (zip.has(`${folder}byteorder`)) {
    const order = ascii.decode(zip.read(`${folder}byteorder`)).trim();
    if (order === 'big') throw new FormatError('invalid', `${fileName} was saved on a big-endian machine; the studio reads little-endian tensors. Re-save it on a little-endian machine or convert it to safetensors.`);
    if (order !== 'little') throw new FormatError('invalid', `${fileName}: its byteorder record says '${order.slice(0, 20)}', not 'little' or 'big'.`);
  }
  const root = unpickle(zip.read(pickle), `${fileName}: ${pickle}`);
  return {
    root,
    float32: (tensor, what) => tensorFloat32(tensor, zip.read(`${folder}data/${tensor.storage.key}`), `${fileName}: ${what}`),
  };
}
