import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { SafetensorsFile } from './safetensors-reader';
import { writeSafetensors } from './safetensors-writer';
import { Weights } from './weights';
import { f16Bits, f16Value } from '../kernels/packed';
import { measureGpuMemory } from '../gpu/memory';
import { randomNormal } from '../common/random';

const TABLE = 'embeddings.token_embedding.weight';
const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
const roundedToF16 = (values: Float32Array) => values.map((v) => f16Value(f16Bits(v)));

/** Rows `ids` of the table `name` of `w`, read through rowTable, with a leak check. */
async function gatherRows(w: Weights, shape: [number, number], ids: number[]): Promise<Float32Array> {
  const before = tf.memory().numTensors;
  const idsT = tf.tensor1d(ids, 'int32');
  const out = w.rowTable(TABLE, shape).gather(idsT);
  const data = (await out.data()) as Float32Array;
  tf.dispose([idsT, out]);
  expect(tf.memory().numTensors, 'live tensors after the gather').toBe(before);
  return data;
}

function rowsOf(data: Float32Array, width: number, ids: number[]): Float32Array {
  const out = new Float32Array(ids.length * width);
  ids.forEach((id, k) => out.set(data.subarray(id * width, (id + 1) * width), k * width));
  return out;
}

describe('Weights', () => {
  it('keeps tables past one storage binding in row chunks and gathers across them exactly', async () => {
    const [rows, width] = [17000, 1000]; // 68 MB: two chunks
    const data = new Float32Array(rows * width);
    for (let i = 0; i < data.length; i++) data[i] = (i % 9973) / 9973;
    const file = await SafetensorsFile.open(writeSafetensors({ 'embeddings.token_embedding.weight': { dtype: 'F32', shape: [rows, width], data } }));
    const w = await Weights.load('text_encoder', file);
    expect(() => w.tensor('embeddings.token_embedding.weight')).toThrow(/row chunks/);
    expect(w.shape('embeddings.token_embedding.weight')).toEqual([rows, width]);
    expect(w.bytes).toBe(rows * width * 4);
    const ids = [0, 16776, 16777, 16999, 5];
    const before = tf.memory().numTensors;
    const idsT = tf.tensor1d(ids, 'int32');
    const got = w.rowTable('embeddings.token_embedding.weight', [rows, width]).gather(idsT);
    const values = (await got.data()) as Float32Array;
    ids.forEach((id, k) => expect(values.subarray(k * width, (k + 1) * width)).toEqual(data.subarray(id * width, (id + 1) * width)));
    tf.dispose([idsT, got]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => w.rowTable('embeddings.token_embedding.weight', [rows, 768])).toThrow(/needs \[17000,768\]/);
    w.dispose();
  });

  describe('the token table of packed f16 weights', () => {
    const [rows, width] = [300, 16];
    const ids = [0, rows - 1, 150, 1, rows - 2, 0];
    const values = randomNormal(rows * width, 7);
    const f16 = new Uint16Array(values.length).map((_, i) => f16Bits(values[i]));

    for (const [what, dtype, precision] of [['an F32 file loaded as f16', 'F32', 'f16'], ['an F16 file loaded as auto', 'F16', 'auto']] as const) {
      it(`stays rows×width×2 bytes on the GPU from load to gather, never fp32 (${what})`, async () => {
        const file = await SafetensorsFile.open(writeSafetensors({ [TABLE]: dtype === 'F16' ? { dtype, shape: [rows, width], data: f16 } : { dtype, shape: [rows, width], data: values } }));
        const { result: [w, got], peakBytes } = await measureGpuMemory(async () => {
          const loaded = await Weights.load('text_encoder', file, { precision });
          return [loaded, await gatherRows(loaded, [rows, width], ids)] as const;
        });
        expect(w.bytes).toBe(rows * width * 2);
        expect(w.stored(TABLE).dtype).toBe('int32');
        expect(() => w.tensor(TABLE)).toThrow(/rowTable/);
        expect(w.shape(TABLE)).toEqual([rows, width]);
        // The packed table, the ids, the gathered rows and uniforms; an fp32 copy would add rows×width×4.
        const gathered = ids.length * width * 4;
        expect(peakBytes).toBeGreaterThanOrEqual(rows * width * 2 + gathered);
        expect(peakBytes).toBeLessThan(rows * width * 2 + gathered + 1024);
        expect(bitsOf(got)).toEqual(bitsOf(rowsOf(roundedToF16(values), width, ids)));
        expect(() => w.rowTable(TABLE, [rows, width + 1])).toThrow(/needs \[300,17\]/);
        w.dispose();
      });
    }

    it('is made packed by synthetic f16 weights, with the f32 synthetic values rounded to f16', async () => {
      const [w16, w32] = [Weights.synthetic('text_encoder', 'f16', 5), Weights.synthetic('text_encoder', 'f32', 5)];
      for (const w of [w16, w32]) w.rowTable(TABLE, [rows, width]); // made up on first use, kept with the model
      const [got, full] = [await gatherRows(w16, [rows, width], ids), await gatherRows(w32, [rows, width], ids)];
      expect(w16.bytes).toBe(rows * width * 2);
      expect(w32.bytes).toBe(rows * width * 4);
      expect(bitsOf(got)).toEqual(bitsOf(roundedToF16(full)));
      w16.dispose();
      w32.dispose();
    });

    it('stays fp32 and exact when loaded as f32', async () => {
      const file = await SafetensorsFile.open(writeSafetensors({ [TABLE]: { dtype: 'F32', shape: [rows, width], data: values } }));
      const w = await Weights.load('text_encoder', file, { precision: 'f32' });
      expect(w.bytes).toBe(rows * width * 4);
      expect(w.stored(TABLE).dtype).toBe('float32');
      expect(bitsOf(await gatherRows(w, [rows, width], ids))).toEqual(bitsOf(rowsOf(values, width, ids)));
      w.dispose();
    });
  });
});
