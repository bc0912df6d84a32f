import { describe, expect, it } from 'vitest';
import { f32ToBf16, f32ToF16 } from '../../model/safetensors-dtypes';
import { refusedImport } from '../../test/import-refusals';
import type { ImportedEmbedding } from './embedding';
import { importPersonalization, type ImportTarget } from './import';
import { sd15UNetConfig } from './sizes';
import { MAX_TORCH_FILE_BYTES } from './torch-embedding';
import { a1111Embedding, Dict, Float, ParameterDict, Storage, Tensor, torchPickle, torchSave, storedZip, torchSaveRecords } from './torch-file.testing';

const TARGET: ImportTarget = { textDim: 768, unet: sd15UNetConfig() };
const refused = (source: Uint8Array | Blob, fileName: string) => refusedImport(source, fileName, TARGET);

/** Distinct values, exact in F16 and BF16 too (multiples of 1/8 below 16). */
const values = (n: number, seed = 0) => Float32Array.from({ length: n }, (_, i) => (((i * 37 + seed * 11) % 255) - 127) / 8);

async function imported(bytes: Uint8Array | Blob, fileName: string): Promise<ImportedEmbedding> {
  const out = await importPersonalization(bytes, fileName, TARGET);
  if (out.kind !== 'embedding') throw new Error('not an embedding');
  return out;
}

describe('A1111 .pt embeddings (torch.save zip)', () => {
  it('reads a [2, 768] F32 embedding; the token is the file stem, step and name are kept', async () => {
    const v = values(2 * 768);
    const bytes = torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(v), [2, 768], { requiresGrad: true }), { name: 'kitty', step: 3000 }), 'my-cat');
    const e = await imported(bytes, 'my-cat.pt');
    expect(e).toMatchObject({ kind: 'embedding', layout: 'a1111-pt', token: 'my-cat', nVectors: 2, dim: 768, info: { steps: 3000 } });
    expect(e.metadata).toEqual({ name: 'kitty', step: '3000', sd_checkpoint: '4c86efd062', sd_checkpoint_name: 'v1-5-pruned-emaonly' });
    expect(e.vectors).toEqual(v);
    expect(e.vectors.buffer).not.toBe(bytes.buffer);
  });

  it('reads F16 and BF16 storages exactly', async () => {
    const v = values(3 * 768, 1);
    for (const [dtype, bits] of [['F16', f32ToF16(v)], ['BF16', f32ToBf16(v)]] as const) {
      const e = await imported(torchSave(a1111Embedding(Tensor.contiguous(Storage.bits16(dtype, bits), [3, 768]))), 'half.pt');
      expect(e.nVectors).toBe(3);
      expect(e.vectors).toEqual(v);
    }
  });

  it('gathers a non-contiguous view with an offset by its strides', async () => {
    // storage: a [768, 4] matrix m; the embedding is m[:, 1:3].T — size [2, 768], stride [1, 4], offset 1
    const m = values(768 * 4, 2);
    const bytes = torchSave(a1111Embedding(new Tensor(Storage.f32(m), 1, [2, 768], [1, 4])));
    const e = await imported(bytes, 'view.pt');
    const expected = new Float32Array(2 * 768);
    for (let r = 0; r < 2; r++) for (let c = 0; c < 768; c++) expected[r * 768 + c] = m[c * 4 + 1 + r];
    expect(e.vectors).toEqual(expected);
  });

  it('reads string_to_param as a ParameterDict (the original textual_inversion layout)', async () => {
    const v = values(768, 3);
    const pd = new ParameterDict([['*', Tensor.contiguous(Storage.f32(v), [1, 768], { parameter: true, requiresGrad: true })]]);
    const e = await imported(torchSave(a1111Embedding(pd)), 'old.pt');
    expect(e).toMatchObject({ layout: 'a1111-pt', token: 'old', nVectors: 1 });
    expect(e.vectors).toEqual(v);
  });

  it('reads any archive folder name, and a Blob as well as bytes', async () => {
    const v = values(768, 4);
    const bytes = torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(v), [1, 768])), 'some_other_stem');
    expect((await imported(new Blob([bytes]), 'dir/sks.pt')).vectors).toEqual(v);
    expect((await imported(new Blob([bytes]), 'dir/sks.pt')).token).toBe('sks');
  });

  it('refuses a width of another model, naming both widths', async () => {
    const error = await refused(torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(values(1024)), [1, 1024]))), 'sd2.pt');
    expect(error.reason).toBe('dim-mismatch');
    expect(error.message).toMatch(/1024 wide \(SD 2\.x, made for v1-5-pruned-emaonly\).*768 wide \(SD 1\.x\)/); // A1111's sd_checkpoint_name
  });

  it('refuses more vectors than a prompt holds, with the count', async () => {
    const error = await refused(torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(values(76 * 768)), [76, 768]))), 'long.pt');
    expect([error.name, error.message]).toEqual(['ImportRefused', 'long.pt: the embedding has 76 vectors; a prompt holds at most 75, so it could never be used.']);
  });

  it('refuses NaN and Inf, naming the tensor', async () => {
    const v = values(768);
    v[5] = NaN;
    const error = await refused(torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(v), [1, 768]))), 'nan.pt');
    expect(error.reason).toBe('invalid');
    expect(error.message).toMatch(/string_to_param\['\*'\] holds NaN at index 5/);
    v[5] = Infinity;
    expect((await refused(torchSave(new Dict([['<x>', Tensor.contiguous(Storage.f32(v), [768])]])), 'inf.bin')).message).toMatch(/tensor '<x>' holds Infinity/);
  });

  it('refuses several embeddings in one file and a view past its storage', async () => {
    const t = () => Tensor.contiguous(Storage.f32(values(768)), [1, 768]);
    const twoError = await refused(torchSave(new Dict([['string_to_param', new Dict([['*', t()], ['+', t()]])]])), 'two.pt');
    expect(twoError.message).toMatch(/string_to_param holds 2 embeddings/);
    const past = await refused(torchSave(a1111Embedding(new Tensor(Storage.f32(values(768)), 1, [1, 768], [768, 1]))), 'past.pt');
    expect(past.reason).toBe('invalid');
    expect(past.message).toMatch(/runs past its storage's 768 values/);
  });

  it('refuses a big-endian file', async () => {
    const error = await refused(torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(values(768)), [1, 768])), 'archive', { byteorder: 'big' }), 'be.pt');
    expect(error.message).toMatch(/big-endian/);
  });
});

describe('diffusers learned_embeds.bin', () => {
  it('reads { "<token>": [768] } as one vector and [n, 768] as n; the key is the token', async () => {
    const v = values(768, 5);
    const one = await imported(torchSave(new Dict([['<cat-toy>', Tensor.contiguous(Storage.f32(v), [768])]]), 'learned_embeds'), 'learned_embeds.bin');
    expect(one).toMatchObject({ layout: 'diffusers-bin', token: '<cat-toy>', nVectors: 1, dim: 768, info: {}, metadata: {} });
    expect(one.vectors).toEqual(v);
    const w = values(4 * 768, 6);
    const four = await imported(new Blob([torchSave(new Dict([['<dog>', Tensor.contiguous(Storage.f32(w), [4, 768])]]))]), 'learned_embeds.bin');
    expect(four).toMatchObject({ token: '<dog>', nVectors: 4 });
    expect(four.vectors).toEqual(w);
  });

  it('reads a torch.save zip whatever its name', async () => {
    const bytes = torchSave(new Dict([['<z>', Tensor.contiguous(Storage.f32(values(768)), [768])]]));
    expect((await imported(bytes, 'renamed.safetensors')).token).toBe('<z>');
  });
});

describe('PyTorch files that are not embeddings', () => {
  it('refuses a pickled LoRA state dict: pickled LoRAs and full models are not read', async () => {
    const lora = new Dict(
      ['down', 'up'].map((k) => [`lora_unet_down_blocks_0_attentions_0_proj_in.lora_${k}.weight`, Tensor.contiguous(Storage.f32(values(16)), [4, 4])] as [string, Tensor]),
    );
    const error = await refused(torchSave(lora), 'pytorch_lora_weights.bin');
    expect(error.reason).toBe('pickle');
    expect(error.message).toMatch(/holding a dict of 2 entries such as 'lora_unet_down_blocks_0/);
    expect(error.message).toMatch(/Pickled LoRAs and full models are not concepts .* convert to safetensors/);
  });

  it('refuses an SDXL embedding saved with torch', async () => {
    const t = (n: number) => Tensor.contiguous(Storage.f32(values(n)), [1, n]);
    const error = await refused(torchSave(new Dict([['clip_g', t(1280)], ['clip_l', t(768)]])), 'xl.pt');
    expect(error.reason).toBe('dim-mismatch');
    expect(error.message).toMatch(/SDXL embedding/);
  });

  it('refuses a .pt whose data.pkl calls os.system, naming the global', async () => {
    const evil = Uint8Array.from([0x80, 2, ...new TextEncoder().encode('cos\nsystem\nX\x02\x00\x00\x00ls'), 0x85, 0x52, 0x2e]);
    const records = torchSaveRecords(new Dict([])).map((r) => (r.name.endsWith('data.pkl') ? { ...r, data: evil } : r));
    const error = await refused(storedZip(records), 'evil.pt');
    expect(error.reason).toBe('unsafe-pickle');
    expect(error.message).toMatch(/^evil\.pt: archive\/data\.pkl: names the global 'os\.system', which the studio never runs/);
  });

  it('still refuses .ckpt / .pth / .pkl by name, whatever they hold', async () => {
    const bytes = torchSave(a1111Embedding(Tensor.contiguous(Storage.f32(values(768)), [1, 768])));
    for (const name of ['model.ckpt', 'x.pth', 'y.PKL', 'z.pickle']) {
      const error = await refused(bytes, name);
      expect(error.reason).toBe('pickle');
      expect(error.message).toMatch(/Pickled LoRAs and full models are not concepts/);
    }
  });

  it('refuses raw pickles and the legacy (pre-1.6) format', async () => {
    const raw = torchPickle(new Dict([['a', 1]])).pickle;
    expect((await refused(raw, 'raw.pt')).message).toMatch(/not a torch\.save zip archive/);
    expect((await refused(raw, 'raw.safetensors')).message).toMatch(/a pickle \(protocol 2\)/);
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
    const error = await refused(legacy, 'old.pt');
    expect(error.reason).toBe('pickle');
    expect(error.message).toMatch(/saved by PyTorch before 1\.6.*re-save it with a current torch or convert it to safetensors/);
  });

  it('refuses files over 64 MiB unread', async () => {
    const mib = new Uint8Array(2 ** 20);
    const big = new Blob(new Array<Uint8Array<ArrayBuffer>>(MAX_TORCH_FILE_BYTES / 2 ** 20 + 1).fill(mib));
    const error = await refused(big, 'huge.pt');
    expect(error.reason).toBe('pickle');
    expect(error.message).toMatch(/65\.0 MiB, more than the 64 MiB .* a textual-inversion embedding is a few KB/);
  });

  it('refuses a zip that torch did not write', async () => {
    const error = await refused(storedZip([{ name: 'readme.txt', data: new Uint8Array([104, 105]) }]), 'notes.pt');
    expect(error.reason).toBe('invalid');
    expect(error.message).toMatch(/not one torch\.save writes/);
    const noPickle = storedZip(torchSaveRecords(new Dict([])).filter((r) => !r.name.endsWith('data.pkl')));
    expect((await refused(noPickle, 'x.pt')).message).toMatch(/no archive\/data\.pkl/);
  });

  it('refuses string_to_param holding something other than a tensor', async () => {
    const bad = torchSave(new Dict([['string_to_param', new Dict([['*', new Float(1.5)]])]]));
    expect((await refused(bad, 'f.pt')).message).toMatch(/string_to_param\['\*'\] is a float, not a tensor/);
  });
});
