import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, i64ToI32 } from './safetensors-dtypes';
import { SafetensorsError, SafetensorsFile } from './safetensors-reader';
import { writeSafetensors } from './safetensors-writer';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/tiny-sd/', import.meta.url));

/** A file from a header (object or raw text) and a data section; `length` overrides N. */
function rawFile(header: object | string | Uint8Array, data: Uint8Array | number = 0, length?: bigint): Uint8Array {
  const json =
    header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes, 8 + json.length);
  return out;
}

/** A tensor entry's JSON text: F32 of `shape` at `offsets`. */
const entry = (offsets = [0, 4], shape: unknown = [1]) => `{"dtype": "F32", "shape": ${JSON.stringify(shape)}, "data_offsets": ${JSON.stringify(offsets)}}`;

async function openError(bytes: Uint8Array): Promise<SafetensorsError> {
  const error = await SafetensorsFile.open(new Blob([bytes as Uint8Array<ArrayBuffer>]), 'bad.safetensors').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetensorsError);
  expect((error as Error).message).toContain('bad.safetensors');
  return error as SafetensorsError;
}

async function fixtureFile(path: string): Promise<SafetensorsFile> {
  const bytes = await readFile(FIXTURE + path);
  return SafetensorsFile.open(new File([bytes], path.split('/').pop()!));
}

async function fixtureJson(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(FIXTURE + path, 'utf8'));
}

describe('safetensors round trip', () => {
  const tensors = {
    'a.weight': { dtype: 'F16' as const, shape: [3], data: f32ToF16(new Float32Array([1, -2, 0.5])) },
    'b.weight': { dtype: 'F32' as const, shape: [2, 2], data: new Float32Array([1.5, -2.25, 3, 4e-8]) },
    ids: { dtype: 'I64' as const, shape: [2], data: new BigInt64Array([49406n, -7n]) },
    bf: { dtype: 'BF16' as const, shape: [1, 2], data: f32ToBf16(new Float32Array([3.140625, -0.5])) },
    empty: { dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) },
  };

  it('writes a file the reader gives back exactly, from bytes and from a Blob', async () => {
    const bytes = writeSafetensors(tensors, { format: 'pt', note: 'héllo' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    for (const source of [bytes, new Blob([bytes as Uint8Array<ArrayBuffer>])]) {
      const st = await SafetensorsFile.open(source, 'round.safetensors');
      expect(st.names()).toEqual(Object.keys(tensors));
      expect(st.metadata).toEqual({ format: 'pt', note: 'héllo' });
      for (const [name, t] of Object.entries(tensors)) {
        const info = st.info(name);
        expect(info.dtype).toBe(t.dtype);
        expect(info.shape).toEqual(t.shape);
        // Aligned to its element size within the file.
        expect((st.dataStart + info.dataOffsets[0]) % t.data.BYTES_PER_ELEMENT).toBe(0);
        expect(Array.from(await st.read(name) as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
      }
      expect(Array.from(await st.readFloat32('a.weight'))).toEqual([1, -2, 0.5]);
      expect(Array.from(await st.readFloat32('bf'))).toEqual([3.140625, -0.5]);
      expect(Array.from(i64ToI32((await st.read('ids')) as BigInt64Array))).toEqual([49406, -7]);
    }
  });

  it('reads an unaligned tensor from in-memory bytes by copying it', async () => {
    const bytes = writeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([7, 8]) } });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const st = await SafetensorsFile.open(shifted.subarray(1));
    expect(Array.from((await st.read('x')) as Float32Array)).toEqual([7, 8]);
  });

  it('refuses to write data that does not match the shape or dtype', () => {
    expect(() => writeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/'x'.*size mismatch/);
    expect(() => writeSafetensors({ x: { dtype: 'F16', shape: [2], data: new Float32Array(2) as never } })).toThrow(/F16 data must be a Uint16Array/);
  });
});

describe('float conversions', () => {
  it('f16 → f32 is exact for every one of the 65536 bit patterns, and f32 → f16 inverts it', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f32 = f16ToF32(all);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const expected = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
      expect(Object.is(f32[h], expected) || (Number.isNaN(expected) && Number.isNaN(f32[h]))).toBe(true);
    }
    const back = f32ToF16(f32);
    for (let h = 0; h < 65536; h++) {
      if (((h >> 10) & 0x1f) === 31 && h & 0x3ff) expect(back[h] & 0x7c00).toBe(0x7c00); // NaN stays NaN
      else expect(back[h]).toBe(h);
    }
  });

  it('f32 → f16 rounds to nearest even, overflows to inf and underflows to zero', () => {
    const values = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 65519, 2 ** -25, 2 ** -25 * 1.5, -1e-10, 1e6]);
    expect(Array.from(f16ToF32(f32ToF16(values)))).toEqual([1, 1 + 2 ** -9, Infinity, 65504, 0, 2 ** -24, -0, Infinity]);
  });

  it('bf16 ↔ f32', () => {
    const values = new Float32Array([1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -Infinity]);
    expect(Array.from(bf16ToF32(f32ToBf16(values)))).toEqual([1, -2.5, 1, 1 + 2 ** -6, 1 + 2 ** -7, -Infinity]);
  });

  it('i64 → i32 names the value that does not fit', () => {
    expect(() => i64ToI32(new BigInt64Array([1n, 2n ** 40n]), 'input_ids')).toThrow(/input_ids: value 1099511627776 at index 1/);
  });
});

describe('the tiny-sd fixture', () => {
  it('unet: 684 F16 tensors with the shapes its config implies', async () => {
    const config = await fixtureJson('unet/config.json');
    const st = await fixtureFile('unet/diffusion_pytorch_model.safetensors');
    expect(st.names()).toHaveLength(684);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(new Set(st.names().map((n) => st.info(n).dtype))).toEqual(new Set(['F16']));
    const [c0] = config.block_out_channels;
    expect(st.info('conv_in.weight').shape).toEqual([c0, config.in_channels, 3, 3]);
    expect(st.info('time_embedding.linear_1.weight').shape).toEqual([4 * c0, c0]);
    expect(st.info('conv_out.weight').shape).toEqual([config.out_channels, c0, 3, 3]);
    expect(st.info('down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight').shape).toEqual([c0, config.cross_attention_dim]);
    const bits = (await st.read('conv_in.bias')) as Uint16Array;
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(Array.from(bits.subarray(0, 4))).toEqual([0xaded, 0xacc0, 0xa99e, 0x2ebb]);
    expect(Array.from((await st.readFloat32('conv_in.bias')).subarray(0, 4))).toEqual([
      -0.09259033203125, -0.07421875, -0.04388427734375, 0.10516357421875,
    ]);
  });

  it('text_encoder: 36 F32 tensors with the shapes its config implies', async () => {
    const config = await fixtureJson('text_encoder/config.json');
    const st = await fixtureFile('text_encoder/model.safetensors');
    expect(st.names()).toHaveLength(36);
    const h = config.hidden_size;
    expect(st.info('embeddings.token_embedding.weight')).toMatchObject({ dtype: 'F32', shape: [config.vocab_size, h] });
    expect(st.info('embeddings.position_embedding.weight').shape).toEqual([config.max_position_embeddings, h]);
    const last = config.num_hidden_layers - 1;
    expect(st.info(`encoder.layers.${last}.mlp.fc1.weight`).shape).toEqual([config.intermediate_size, h]);
    const values = (await st.read('embeddings.position_embedding.weight')) as Float32Array;
    expect(values).toBeInstanceOf(Float32Array);
    expect(values.length).toBe(config.max_position_embeddings * h);
    expect(values[0]).toBe(Math.fround(0.04813455045223236));
  });

  it('vae: 176 F32 tensors', async () => {
    const st = await fixtureFile('vae/diffusion_pytorch_model.safetensors');
    expect(st.names()).toHaveLength(176);
    expect(st.info('decoder.conv_in.weight')).toMatchObject({ dtype: 'F32', shape: [32, 4, 3, 3] });
  });
});

describe('malformed files', () => {
  const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('truncated before the header length', async () => {
    expect((await openError(new Uint8Array(5))).message).toMatch(/truncated: 5 bytes/);
  });

  it('truncated inside the data', async () => {
    const bytes = rawFile(ok, 8).subarray(0, -3);
    const error = await openError(bytes);
    expect(error.tensor).toBe('x');
    expect(error.message).toMatch(/'x'.*out of range.*5 bytes.*truncated/);
  });

  it('header length larger than the file', async () => {
    expect((await openError(rawFile(ok, 8, 10_000n))).message).toMatch(/header length 10000 is larger than the file/);
  });

  it('absurd header length', async () => {
    expect((await openError(rawFile(ok, 8, 2n ** 62n))).message).toMatch(`header of ${2n ** 62n} bytes is larger than the 16 MiB the studio reads`);
  });

  it('header that is not JSON', async () => {
    expect((await openError(rawFile('{"x": {"dtype": "F32",', 8))).message).toMatch(/header is not valid JSON/);
    expect((await openError(rawFile('[1, 2, 3]'))).message).toMatch(/header does not start with '\{' \(it starts with '\['\); a safetensors header is a JSON object/);
    expect((await openError(rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])))).message).toMatch(/header is not valid UTF-8/);
  });

  it('metadata that is not a string map', async () => {
    expect((await openError(rawFile({ __metadata__: { step: 3 }, ...ok }, 8))).message).toMatch(/__metadata__ value of 'step' is not a string/);
  });

  it('offsets out of range', async () => {
    const error = await openError(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8));
    expect(error.message).toMatch(/tensor 'x': data_offsets \[8, 16\] are out of range/);
    expect((await openError(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8] } }, 8))).message).toMatch(/'x': data_offsets \[8\] are not two/);
    expect((await openError(rawFile({ x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8))).message).toMatch(/end before they begin/);
  });

  it('overlapping tensors', async () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    const error = await openError(rawFile(header, 12));
    expect(error.tensor).toBe('b');
    expect(error.message).toMatch(/'b': data_offsets \[4, 12\] overlap tensor 'a' at \[0, 8\]/);
  });

  it('size mismatch between offsets and shape', async () => {
    const error = await openError(rawFile({ x: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, 8));
    expect(error.message).toMatch(/'x': size mismatch.*8 bytes.*F16 shape \[3\] needs 6/);
  });

  it.each(['F64', 'U8', 'F8_E4M3', 'complex64', 'toString', 'constructor'])('dtype %s is refused, naming the dtype and the tensor', async (dtype) => {
    const error = await openError(rawFile({ 'w.weight': { dtype, shape: [1], data_offsets: [0, 8] } }, 8));
    expect(error.tensor).toBe('w.weight');
    expect(error.message).toContain(`tensor 'w.weight'`);
    expect(error.message).toMatch(new RegExp(`(unsupported|unknown) dtype ${dtype}`));
  });

  it.each([[[-1, 2]], [[1.5]], [['2']], [null]])('shape %j is refused', async (shape) => {
    const error = await openError(rawFile({ x: { dtype: 'F32', shape, data_offsets: [0, 8] } }, 8));
    expect(error.message).toMatch(/'x': shape/);
  });

  it('unknown tensor names are errors on read', async () => {
    const st = await SafetensorsFile.open(rawFile(ok, 8), 'ok.safetensors');
    await expect(st.read('y')).rejects.toThrow(/ok.safetensors: tensor 'y': no such tensor/);
  });
});

describe('header size', () => {
  it('a header longer than 16 MiB is refused before it is decoded, saying so', async () => {
    const n = 16 * 1024 * 1024 + 1;
    const error = await openError(rawFile(new Uint8Array(n)));
    expect(error.message).toMatch(`header of ${n} bytes is larger than the 16 MiB the studio reads`);
  });

  it('a header of exactly 16 MiB is read', async () => {
    const header = `{"__metadata__": {"a": ""}}`;
    const padded = header.replace('""', `"${'x'.repeat(16 * 1024 * 1024 - header.length)}"`);
    const st = await SafetensorsFile.open(rawFile(padded), 'big.safetensors');
    expect(st.metadata.a).toHaveLength(16 * 1024 * 1024 - header.length);
  });

  it('the writer refuses a header the reader would refuse', () => {
    expect(() => writeSafetensors({}, { a: 'x'.repeat(16 * 1024 * 1024) })).toThrow(/writeSafetensors: header of \d+ bytes is larger than the 16 MiB the studio reads/);
  });
});

describe('header JSON', () => {
  const ok = `{"x": ${entry()}}`;

  it.each([
    ['a shape', `{"x": {"dtype": "F32", "shape": ${'['.repeat(4000)}${']'.repeat(4000)}, "data_offsets": [0, 0]}}`],
    ['data_offsets', `{"x": {"dtype": "F32", "shape": [0], "data_offsets": ${'['.repeat(4000)}${']'.repeat(4000)}}}`],
    ['a tensor entry', `{"x": ${'['.repeat(4000)}${']'.repeat(4000)}}`],
    ['__metadata__', `{"__metadata__": {"a": ${'{"a": '.repeat(4000)}"b"${'}'.repeat(4000)}}}`],
    ['unclosed', `{"x": ${'['.repeat(4000)}`],
  ])('nesting 4000 deep in %s is refused before it is walked, in a short message', async (_, header) => {
    const error = await openError(rawFile(header));
    expect(error.message).toMatch(/header nests deeper than 3 levels.*at character \d+/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('a huge or long value is shown truncated', async () => {
    const long = 'x'.repeat(1_000_000);
    for (const header of [`{"x": {"dtype": "F32", "shape": [0], "data_offsets": "${long}"}}`, `{"x": ${entry([0, 0], [...Array(100_000).fill(1), -1])}}`, `{"${long}": 1}`]) {
      expect((await openError(rawFile(header))).message.length).toBeLessThan(400);
    }
  });

  it.each([
    ['a tensor name', `{"x": ${entry()}, "x": ${entry()}}`, "'x'"],
    ['__metadata__', `{"__metadata__": {}, "__metadata__": {}, "x": ${entry()}}`, "'__metadata__'"],
    ['a metadata key', `{"__metadata__": {"k": "a", "k": "b"}, "x": ${entry()}}`, "'k'"],
    ['a field of a tensor entry', `{"x": {"dtype": "F16", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}`, "'dtype'"],
  ])('a duplicate key (%s) is refused, naming it', async (_, header, key) => {
    expect((await openError(rawFile(header, 4))).message).toMatch(`duplicate key ${key}`);
  });

  it.each([['null', 'null'], ['an object', '{"b": "c"}'], ['an array', '["b"]'], ['a boolean', 'true']])('a metadata value that is %s is refused', async (_, value) => {
    expect((await openError(rawFile(`{"__metadata__": {"a": ${value}}, "x": ${entry()}}`, 4))).message).toMatch(/__metadata__ value of 'a' is not a string/);
  });

  it.each([' {}', '\n{}', '\ufeff{}', '"{}"'])('a header that does not start with { is refused (%j)', async (header) => {
    expect((await openError(rawFile(header))).message).toMatch(/header does not start with '\{'/);
  });

  it.each(['{}x', '{}\n', '{}\t', '{}\0', '{} {}', `${ok} ,`])('anything but spaces after the JSON object is refused (%j)', async (header) => {
    expect((await openError(rawFile(header, 4))).message).toMatch(/header has .* after its JSON object at character \d+; only spaces may pad it/);
  });

  it('spaces after the JSON object are padding', async () => {
    expect((await SafetensorsFile.open(rawFile(`${ok}       `, 4))).names()).toEqual(['x']);
  });
});

describe('keys named like Object.prototype members', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

  it('as tensor names and metadata keys they round-trip through the writer and the reader', async () => {
    const tensors = Object.fromEntries(names.map((name, i) => [name, { dtype: 'F32' as const, shape: [1], data: new Float32Array([i]) }]));
    const metadata = Object.fromEntries(names.map((name) => [name, `${name}!`]));
    const st = await SafetensorsFile.open(writeSafetensors(tensors, metadata), 'proto.safetensors');
    expect(st.names()).toEqual(names);
    for (const [i, name] of names.entries()) {
      expect(Array.from(await st.readFloat32(name))).toEqual([i]);
      expect(st.metadata[name]).toBe(`${name}!`);
    }
    expect(Object.keys(st.metadata)).toEqual(names);
  });

  it('a file without them does not inherit them', async () => {
    const st = await SafetensorsFile.open(writeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { format: 'pt' }));
    for (const name of names) expect(st.metadata[name]).toBeUndefined();
    expect(st.has('constructor')).toBe(false);
  });

  it('a header written by another tool with a __proto__ tensor and key reads them', async () => {
    const st = await SafetensorsFile.open(rawFile(`{"__metadata__": {"__proto__": "p"}, "__proto__": ${entry()}}`, 4), 'proto.safetensors');
    expect(st.names()).toEqual(['__proto__']);
    expect(st.info('__proto__').shape).toEqual([1]);
    expect(st.metadata.__proto__).toBe('p');
  });
});

describe('data layout', () => {
  it('tensors may be listed in any order of their data', async () => {
    const st = await SafetensorsFile.open(rawFile(`{"b": ${entry([4, 8])}, "a": ${entry([0, 4])}}`, 8));
    expect(st.names()).toEqual(['b', 'a']);
  });

  it.each([
    ['a hole before a tensor', `{"x": ${entry([4, 8])}}`, 8, /'x': data_offsets \[4, 8\] leave bytes \[0, 4\) of the data section unused/],
    ['a hole between tensors', `{"a": ${entry([0, 4])}, "b": ${entry([8, 12])}}`, 12, /'b': data_offsets \[8, 12\] leave bytes \[4, 8\)/],
    ['bytes after the last tensor', `{"x": ${entry()}}`, 8, /data section has 8 bytes but its tensors end at byte 4/],
    ['an empty tensor inside another', `{"a": ${entry([0, 8], [2])}, "e": ${entry([4, 4], [0])}}`, 8, /'e': data_offsets \[4, 4\] overlap tensor 'a' at \[0, 8\]/],
  ])('data with %s is refused (safetensors data has no holes)', async (_, header, data, message) => {
    expect((await openError(rawFile(header, data))).message).toMatch(message);
  });

  it.each([
    [[2 ** 40, 2 ** 40, 0]],
    [[2 ** 26, 2 ** 26]],
    [[2 ** 52]],
  ])('shape %j whose byte size passes 2^53 is refused, even with a zero dimension', async (shape) => {
    expect((await openError(rawFile(`{"x": ${entry([0, 0], shape)}}`))).message).toMatch(/'x': shape \[.*\] is too large/);
  });
});
