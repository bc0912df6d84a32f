import { describe, expect, it } from 'vitest';
import * as tf from './tf';
import { profileDispatches } from './dispatch-profile';
import { webgpuBackend } from './tf-backend';

describe('profileDispatches', () => {
  it('lists each dispatch in order with its program key and GPU time, and leaves the backend as it was', async () => {
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    let out: tf.Tensor[] = [];
    const profile = await profileDispatches(() => {
      const sum = tf.add(a, a);
      out = [sum, tf.matMul(sum, a), tf.relu(sum)];
    });
    expect(profile.dispatches.map((d) => d.program)).toEqual(['BinaryOpProgram', expect.stringMatching(/^MatMul/), 'UnaryOpProgram']);
    expect(profile.dispatches.map((d) => d.key)).toEqual([expect.stringMatching(/^binary/), expect.stringMatching(/^matMul/), expect.stringMatching(/^unary/)]);
    expect(profile.dispatches.every((d) => Number.isFinite(d.ms) && d.ms >= 0)).toBe(true);
    expect(profile.timed).toBe((webgpuBackend() as unknown as { supportTimestampQuery: boolean }).supportTimestampQuery);
    expect(Array.from(await out[1].data())).toEqual([14, 20, 30, 44]);
    expect(Object.hasOwn(webgpuBackend(), 'runWebGPUProgram')).toBe(false);
    expect((await profileDispatches(() => void 0)).dispatches).toEqual([]);
    tf.dispose([a, ...out]);
  });
});
