import * as tf from '../gpu/tf';
import { describe, expect, it } from 'vitest';
import { AdamW, adamwStep, type AdamWConfig } from './adamw';
import { adamwStepComposed } from './adamw.reference';
import { expectClose, expectNoLeaks, onBackend } from '../test/compare';
import { randomNormal } from '../common/random';

const CONFIG: AdamWConfig = { learningRate: 5e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2 };
const N = 1031; // not a multiple of the workgroup size
const STEPS = 10;
const grads = Array.from({ length: STEPS }, (_, s) => randomNormal(N, 100 + s, 0.1 * (s + 1)));
const initial = randomNormal(N, 1);

/** Ten steps of the composed formula on the CPU backend. */
async function reference() {
  return onBackend('cpu', async () => {
    let p = tf.tensor(initial);
    let m = tf.zeros([N]);
    let v = tf.zeros([N]);
    for (let t = 1; t <= STEPS; t++) {
      const g = tf.tensor(grads[t - 1]);
      const next = adamwStepComposed(p, g, m, v, t, CONFIG);
      tf.dispose([p, m, v, g]);
      ({ param: p, m, v } = next);
    }
    const out = { p: await p.data(), m: await m.data(), v: await v.data() };
    tf.dispose([p, m, v]);
    return out;
  });
}

describe('fused AdamW kernel', () => {
  it('matches the composed formula over 10 steps within 1e-5 relative, leaking nothing', async () => {
    const ref = await reference();
    const ours = await expectNoLeaks(async () => {
      let p = tf.tensor(initial);
      let mv = tf.zeros([N, 2]);
      for (let t = 1; t <= STEPS; t++) {
        const g = tf.tensor(grads[t - 1]);
        const next = adamwStep(p, g, mv, t, CONFIG);
        tf.dispose([p, mv, g]);
        ({ param: p, moments: mv } = next);
      }
      const interleaved = await mv.data();
      const out = {
        p: await p.data(),
        m: interleaved.filter((_, i) => i % 2 === 0),
        v: interleaved.filter((_, i) => i % 2 === 1),
      };
      tf.dispose([p, mv]);
      return out;
    });
    expectClose(ours.p, ref.p, 1e-5, 'param');
    expectClose(ours.m, ref.m, 1e-5, 'first moment');
    expectClose(ours.v, ref.v, 1e-5, 'second moment');
  });

  it('AdamW updates variables in place, keeps state per variable and leaks nothing', async () => {
    const a = tf.variable(tf.tensor(initial.slice(0, 12), [3, 4]));
    const b = tf.variable(tf.tensor(initial.slice(12, 17)));
    await expectNoLeaks(async () => {
      const opt = new AdamW([a, b], CONFIG);
      for (let t = 0; t < 3; t++) {
        const g = tf.tidy(() => [tf.onesLike(a), tf.neg(tf.onesLike(b))]);
        opt.apply(g);
        tf.dispose(g);
      }
      expect(opt.step).toBe(3);
      expect(opt.moments.map((m) => m.shape)).toEqual([[12, 2], [5, 2]]);
      opt.dispose();
    });
    // A constant gradient moves every element by about lr per step, against its sign.
    const da = (await a.data()).map((x, i) => x - initial[i]);
    const db = (await b.data()).map((x, i) => x - initial[12 + i]);
    da.forEach((d) => expect(d).toBeLessThan(-0.013));
    db.forEach((d) => expect(d).toBeGreaterThan(0.013));
    tf.dispose([a, b]);
  });

  it('rejects mismatched shapes and bad step numbers with a message', () => {
    const p = tf.zeros([4]);
    const mv = tf.zeros([4, 2]);
    expect(() => adamwStep(p, tf.zeros([5]), mv, 1, CONFIG)).toThrow(/grad shape/);
    expect(() => adamwStep(p, p, tf.zeros([4]), 1, CONFIG)).toThrow(/moments must be/);
    expect(() => adamwStep(p, p, mv, 0, CONFIG)).toThrow(/step must be/);
    tf.dispose([p, mv]);
  });
});
