import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../model/safetensors-writer';
import { pickleSignature, type ImportTarget } from './import';
import { sd15UNetConfig } from './sizes';
import { refusedImport } from '../../test/import-refusals';

const TARGET: ImportTarget = { textDim: 768, unet: sd15UNetConfig() };

const refused = (source: Uint8Array | Blob, fileName: string) => refusedImport(source, fileName, TARGET);

const PICKLE_MESSAGE = /PyTorch pickles can run code; convert to safetensors/;

describe('import refusals', () => {
  it('refuses .pt / .bin / .ckpt by name', async () => {
    for (const name of ['concept.pt', 'pytorch_lora_weights.bin', 'model.CKPT']) {
      const error = await refused(new Uint8Array([1, 2, 3]), name);
      expect(error.reason).toBe('pickle');
      expect(error.message).toMatch(PICKLE_MESSAGE);
    }
  });

  it('tells pickles by magic bytes whatever the name: a raw pickle is refused, a zip goes to the torch reader', async () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0]);
    const raw = new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0, 0, 0, 0, 0, 0]);
    expect(pickleSignature(zip)).toMatch(/zip/);
    expect(pickleSignature(raw)).toMatch(/protocol 2/);
    const error = await refused(raw, 'renamed.safetensors');
    expect(error.reason).toBe('pickle');
    expect(error.message).toMatch(PICKLE_MESSAGE);
    const broken = await refused(zip, 'renamed.safetensors');
    expect(broken.reason).toBe('invalid');
    expect(broken.message).toMatch(/not a readable zip archive/);
    const blob = await refused(new Blob([raw]), 'blob.safetensors');
    expect(blob.reason).toBe('pickle');
  });

  it('refuses empty files and files without tensors', async () => {
    const error = await refused(new Uint8Array(0), 'empty.safetensors');
    expect(error.reason).toBe('empty');
    expect(error.message).toMatch(/empty \(0 bytes\)/);
    expect((await refused(writeSafetensors({}, { a: 'b' }), 'none.safetensors')).message).toMatch(/holds no tensors/);
  });

  it('refuses bytes that are not safetensors, keeping the reader’s reason', async () => {
    const error = await refused(new TextEncoder().encode('hello, this is not a model file'), 'x.safetensors');
    expect(error.reason).toBe('not-safetensors');
    expect(error.cause).toBeDefined();
  });

  it('refuses a safetensors file that is neither an embedding nor a LoRA', async () => {
    const checkpoint = writeSafetensors({
      'model.diffusion_model.input_blocks.0.0.weight': { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) },
      'model.diffusion_model.input_blocks.0.0.bias': { dtype: 'F32', shape: [2], data: new Float32Array(2) },
    });
    const error = await refused(checkpoint, 'checkpoint.safetensors');
    expect(error.reason).toBe('unknown-format');
    expect(error.message).toMatch(/neither a textual-inversion embedding .* nor a LoRA/);
    expect(error.message).toMatch(/model\.diffusion_model\.input_blocks\.0\.0\.weight/);
  });
});
