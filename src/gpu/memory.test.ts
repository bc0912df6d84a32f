import { afterEach, describe, expect, it } from 'vitest';
import * as tf from './tf';
import { flushGpu } from './tf-backend';
import { gpuAllocation, limitPooledFreeBytes, resetHighWater, trimBufferPool } from './memory';

const MB = 2 ** 20;

/** Makes and frees tensors of `sizes` (MB each, fp32), one after another, so each frees before the next. */
async function passOver(sizes: number[]): Promise<number[]> {
  const sums: number[] = [];
  for (const mb of sizes) {
    const t = tf.fill([(mb * MB) / 4], 1);
    const s = tf.sum(t);
    sums.push((await s.data())[0]);
    tf.dispose([t, s]);
  }
  await flushGpu();
  return sums;
}

describe('the pooled free-bytes limit', () => {
  afterEach(() => limitPooledFreeBytes(Infinity));

  it('keeps every freed size pooled by default, so a pass over distinct sizes holds them all', async () => {
    trimBufferPool();
    resetHighWater();
    const start = gpuAllocation().allocated;
    await passOver([1, 2, 3, 4]);
    const { allocated, highWater, usedHighWater } = gpuAllocation();
    expect(allocated - start).toBeGreaterThanOrEqual(10 * MB); // all four stay pooled
    expect(highWater - start).toBeGreaterThanOrEqual(10 * MB);
    expect(usedHighWater - start).toBeLessThan(4 * MB + MB / 4); // never more than one in use at once
  });

  it('destroys free buffers before creating new ones, so the high-water stays within what is in use plus the limit', async () => {
    trimBufferPool();
    limitPooledFreeBytes(MB);
    resetHighWater();
    const start = gpuAllocation().allocated;
    const sums = await passOver([1, 2, 3, 4]);
    expect(sums).toEqual([MB / 4, MB / 2, (3 * MB) / 4, MB]); // results are unchanged
    const { allocated, highWater, usedHighWater } = gpuAllocation();
    expect(highWater - start).toBeLessThanOrEqual(usedHighWater - start + MB);
    expect(allocated - start).toBeLessThanOrEqual(4 * MB + MB / 4);
  });

  it('still reuses a freed buffer of the same size, within the limit', async () => {
    trimBufferPool();
    limitPooledFreeBytes(8 * MB);
    await passOver([2]);
    const pooled = gpuAllocation().allocated;
    resetHighWater();
    await passOver([2, 2, 2]);
    expect(gpuAllocation().highWater).toBe(pooled); // nothing new created
  });

  it('trims at once when lowered', async () => {
    trimBufferPool();
    const empty = gpuAllocation().allocated;
    await passOver([3]);
    expect(gpuAllocation().allocated).toBeGreaterThanOrEqual(empty + 3 * MB);
    limitPooledFreeBytes(0);
    expect(gpuAllocation().allocated).toBeLessThanOrEqual(empty);
  });
});
