import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { SafetensorsFile } from '../model/safetensors-reader';
import { writeSafetensors } from '../model/safetensors-writer';
import { Weights } from '../model/weights';
import { f16Bits, f16Value } from '../kernels/packed';
import { randomNormal } from '../common/random';
import { TextualInversion } from './textual-inversion';

const TABLE = 'embeddings.token_embedding.weight';

describe('textual inversion over a packed f16 token table', () => {
  it('initialises from packed rows, reads new ids from its vectors, and differentiates only the vectors', async () => {
    const [V, D] = [300, 16];
    const values = randomNormal(V * D, 5);
    const file = await SafetensorsFile.open(writeSafetensors({ [TABLE]: { dtype: 'F32', shape: [V, D], data: values } }));
    const text = await Weights.load('text_encoder', file, { precision: 'f16' });
    expect(text.bytes).toBe(V * D * 2);
    const row = (id: number) => Array.from(values.subarray(id * D, (id + 1) * D), (v) => f16Value(f16Bits(v)));
    const before = tf.memory().numTensors;

    const ti = TextualInversion.create(text, { numVectors: 2, initIds: [7, V - 1], tokenIds: [V, V + 1] });
    expect(await ti.vectors.array()).toEqual([row(7), row(V - 1)]);
    const ids = tf.tensor2d([[0, V, 42, V + 1, V - 1]], [1, 5], 'int32');
    const out = ti.embedTokens(ids);
    expect(await out.array()).toEqual([[row(0), row(7), row(42), row(V - 1), row(V - 1)]]);

    const weights = tf.tidy(() => tf.range(1, 5 * D + 1).reshape([1, 5, D]));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(ti.embedTokens(ids), weights)) as tf.Scalar, [ti.vectors]);
    const w = await weights.array();
    expect(await grads[ti.vectors.name].array()).toEqual([(w as number[][][])[0][1], (w as number[][][])[0][3]]);
    expect(Object.keys(grads)).toEqual([ti.vectors.name]);
    tf.dispose([ids, out, weights, value, grads[ti.vectors.name]]);
    ti.dispose();
    expect(tf.memory().numTensors).toBe(before);
    text.dispose();
  });
});
