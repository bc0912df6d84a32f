import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { SafetensorsFile } from './safetensors-reader';
import { writeSafetensors } from './safetensors-writer';
import { Weights } from './weights';

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
});
