/**
 * Not part of the suite: abandoned-work.test.ts runs this file in a Vitest of its own. The first
 * test times out while its body goes on making (and keeping) tensors; the second checks for
 * leaks around its own work, that the first one's work stopped, and that its cleanup still ran.
 * It runs with setup-scopes.ts alone, on the CPU backend (the scopes do not depend on the GPU).
 */
import { afterEach, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '../gpu/tf';
import { expectNoLeaks } from './compare';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let made = 0;
let cleanups = 0;

describe('a timed-out test beside the next one', () => {
  afterEach(() => {
    tf.dispose(tf.tidy(() => tf.zeros([1]).add(1))); // ops in a failed test's own afterEach run
    cleanups++;
  });

  it('times out, its body still making tensors', async () => {
    const kept: tf.Tensor[] = [];
    for (;;) {
      kept.push(tf.zeros([4]));
      made++;
      await sleep(10);
    }
  }, 300);

  it('sees only its own tensors in its leak check', async () => {
    expect(cleanups, 'afterEach hooks that ran their ops').toBe(1);
    const madeBefore = made;
    expect(madeBefore, 'tensors the first test made before it timed out').toBeGreaterThan(0);
    await expectNoLeaks(async () => {
      for (let i = 0; i < 20; i++) {
        tf.dispose(tf.tidy(() => tf.ones([2]).add(1)));
        await sleep(10);
      }
    });
    expect(made, 'tensors the timed-out test made meanwhile').toBe(madeBefore);
  });
});
