import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalFolderSource } from './local';
import { folderFingerprint, hubModelId, matchModel, nameOfId, namesModel } from './model-id';
import { nodeFolderSource } from './node-folder';
import { signFlipped, TINY_SD } from '../../test/model-fixtures';

const UNET = 'unet/diffusion_pytorch_model.safetensors';
const paths = nodeFolderSource(TINY_SD).list!();

/** The fixture's files under `prefix`, with some replaced. */
function folder(prefix: string, replace: Record<string, Uint8Array> = {}): [string, Blob][] {
  return paths.map((p) => [prefix + p, new Blob([(replace[p] ?? readFileSync(join(TINY_SD, p))) as BlobPart])]);
}

const flippedUnet = () => signFlipped(readFileSync(join(TINY_SD, UNET)), ['down_blocks.0.resnets.0.conv1.weight']);

describe('local model ids', () => {
  it('two folders of one name with other weights (one tensor negated) are two models of one name', async () => {
    const flipped = flippedUnet();
    expect(Buffer.from(flipped).equals(readFileSync(join(TINY_SD, UNET)))).toBe(false);
    const a = await LocalFolderSource.fromEntries(folder('Downloads/tiny-sd/'));
    const b = await LocalFolderSource.fromEntries(folder('Other/tiny-sd/', { [UNET]: flipped }));
    expect(a.id).toMatch(/^local:tiny-sd#[0-9a-f]{12}$/);
    expect(b.id).toMatch(/^local:tiny-sd#[0-9a-f]{12}$/);
    expect(b.id).not.toBe(a.id);
    expect([a.name, b.name]).toEqual(['tiny-sd', 'tiny-sd']);
  });

  it('the same files in two places, picked or dropped, are one model', async () => {
    const picked = await LocalFolderSource.fromEntries(folder('Downloads/tiny-sd/'));
    const dropped = await LocalFolderSource.fromEntries(new Map(folder('elsewhere/deeper/tiny-sd/').reverse()));
    expect(dropped.id).toBe(picked.id);
  });

  it('files dropped without a folder get a fingerprinted id, which their weights change', async () => {
    const a = await LocalFolderSource.fromEntries(folder(''));
    const b = await LocalFolderSource.fromEntries(folder('', { [UNET]: flippedUnet() }));
    expect(a.name).toBe('folder');
    expect(a.id).toMatch(/^local:folder#[0-9a-f]{12}$/);
    expect(b.id).not.toBe(a.id);
  });

  it('reads each weight file\'s header and a few bytes per tensor, never the whole file', async () => {
    const bytes = readFileSync(join(TINY_SD, UNET));
    const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
    const tensors = Object.keys(JSON.parse(bytes.subarray(8, headerEnd).toString())).length - 1; // __metadata__
    const reads: number[] = [];
    class Watched extends Blob {
      override slice(start?: number, end?: number, type?: string): Blob {
        reads.push((end ?? this.size) - (start ?? 0));
        return super.slice(start, end, type);
      }
    }
    const files = new Map<string, Blob>([[UNET, new Watched([bytes])]]);
    const fingerprint = await folderFingerprint(files);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const read = reads.reduce((a, b) => a + b, 0);
    expect(Math.max(...reads)).toBe(headerEnd); // the header (length and JSON) is the largest read
    expect(read).toBeLessThanOrEqual(2 * headerEnd + 64 * (tensors + 2));
    expect(read).toBeLessThan(bytes.length / 20);
  });

  it('a weight file that is not safetensors is fingerprinted by path and size (loading refuses it)', async () => {
    const junk = (fill: number) => new Map([['unet/diffusion_pytorch_model.safetensors', new Blob([new Uint8Array(100).fill(fill)])]]);
    expect(await folderFingerprint(junk(1))).toBe(await folderFingerprint(junk(2)));
  });
});

describe('hub model ids', () => {
  it('name the endpoint unless it is huggingface.co', () => {
    expect(hubModelId('https://huggingface.co', 'a/b', 'main')).toBe('hf:a/b@main');
    expect(hubModelId('https://huggingface.co/', 'a/b', 'main')).toBe('hf:a/b@main');
    expect(hubModelId('https://hf-mirror.com', 'a/b', 'v2')).toBe('hf:hf-mirror.com/a/b@v2');
    expect(hubModelId('http://127.0.0.1:8080/mirror/', 'a/b', 'main')).toBe('hf:127.0.0.1:8080/mirror/a/b@main');
  });
});

describe('matching records made before ids named the weights', () => {
  const loaded = { id: 'local:tiny-sd#0123456789ab', name: 'tiny-sd' };

  it('an old-style id matches by name; a new record must match by id', () => {
    expect(nameOfId('local:tiny-sd')).toBe('tiny-sd');
    expect(nameOfId('local:tiny-sd#0123456789ab')).toBe('tiny-sd');
    expect(nameOfId('hf:a/b@main')).toBe('a/b');
    expect(nameOfId('hf:a/b@v2')).toBe('a/b@v2');
    expect(nameOfId('builtin:shapes-sd')).toBe('shapes-sd');
    expect(nameOfId('runwayml/stable-diffusion-v1-5')).toBe('runwayml/stable-diffusion-v1-5');
    expect(matchModel({ id: loaded.id, name: 'tiny-sd' }, loaded)).toBe('same');
    expect(matchModel({ id: 'local:tiny-sd' }, loaded)).toBe('same-name');
    expect(matchModel({ id: 'local:other' }, loaded)).toBe('other');
    expect(matchModel({ id: 'local:tiny-sd#ffffffffffff', name: 'tiny-sd' }, loaded)).toBe('other');
    expect(matchModel({ id: 'hf:a/b@main' }, { id: 'hf:a/b@0123456789abcdef0123456789abcdef01234567', name: 'a/b' })).toBe('same-name');
  });

  it('concepts are matched to the loaded model by name, whatever id their base model was stored under', () => {
    expect(namesModel('tiny-sd', loaded)).toBe(true); // concepts trained since: the name
    expect(namesModel('local:tiny-sd', loaded)).toBe(true); // before: an old-style id
    expect(namesModel('local:tiny-sd#ffffffffffff', loaded)).toBe(true);
    expect(namesModel('other-sd', loaded)).toBe(false);
    const hub = { id: 'hf:a/b@0123456789abcdef0123456789abcdef01234567', name: 'a/b' };
    expect([namesModel('hf:a/b@main', hub), namesModel('a/b@main', hub), namesModel('a/b', hub), namesModel('hf:a/b@v2', hub)]).toEqual([true, true, true, false]);
  });
});
