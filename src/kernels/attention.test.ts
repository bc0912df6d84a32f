import * as tf from '../gpu/tf';
import { describe, expect, it } from 'vitest';
import { attention, attentionBackward, attentionForward, attentionShapes, type AttentionOptions } from './attention';
import { attentionComposed } from './attention-composed';
import { expectMatchesReference, expectNoLeaks, randomInput } from '../test/compare';
import { measureGpuMemory } from '../gpu/memory';
import { randomNormal } from '../common/random';

interface Case {
  what: string;
  batch: number;
  heads: number;
  headDim: number;
  nq: number;
  nk: number;
  causal?: boolean;
  scale?: number;
  /** Spread of q and k: larger means peakier softmax rows. */
  spread?: number;
}

const CASES: Case[] = [
  { what: 'tiny d=8, odd Nq', batch: 1, heads: 1, headDim: 8, nq: 37, nk: 37 },
  { what: 'd=4, several query and key tiles, 3 heads', batch: 1, heads: 3, headDim: 4, nq: 130, nk: 150 },
  { what: 'd=40, B=2, H=2', batch: 2, heads: 2, headDim: 40, nq: 77, nk: 77 },
  { what: 'd=64 (SD 2.x), tiles at the 32 KiB limit', batch: 1, heads: 1, headDim: 64, nq: 50, nk: 70 },
  { what: 'd=80 cross-attention, Nk=77', batch: 1, heads: 2, headDim: 80, nq: 70, nk: 77 },
  { what: 'causal d=16, B=2, H=2 (CLIP-like)', batch: 2, heads: 2, headDim: 16, nq: 77, nk: 77, causal: true },
  // The same kernels as the case above (constants depend on d and causal, not on N): no new compile.
  { what: 'causal d=16, several row blocks and key tiles', batch: 1, heads: 1, headDim: 16, nq: 300, nk: 300, causal: true },
  { what: 'd=6 (not a multiple of 4), explicit scale, peaky rows', batch: 1, heads: 2, headDim: 6, nq: 45, nk: 90, scale: 0.9, spread: 3 },
  { what: 'd=160, Nk=77', batch: 1, heads: 1, headDim: 160, nq: 33, nk: 77 },
];

/**
 * Each new (d, causal) compiles three kernels. On lavapipe with an empty Mesa shader cache (a bare
 * CI machine) that takes up to ~2 minutes at SD's widths (measured: d = 40, backward 115 s), then
 * the cache makes it instant; the tiling cases therefore reuse small widths' kernels.
 */
const COLD_COMPILE_TIMEOUT_MS = 400_000;

describe('fused attention kernel', () => {
  it.each(CASES)('matches the composed formula, values and gradients: $what', { timeout: COLD_COMPILE_TIMEOUT_MS }, async (c) => {
    const options: AttentionOptions = { numHeads: c.heads, causal: c.causal, scale: c.scale };
    const width = c.heads * c.headDim;
    await expectMatchesReference({
      inputs: [
        randomInput([c.batch, c.nq, width], 11, c.spread ?? 1),
        randomInput([c.batch, c.nk, width], 12, c.spread ?? 1),
        randomInput([c.batch, c.nk, width], 13),
      ],
      ours: (q, k, v) => attention(q, k, v, options),
      reference: (q, k, v) => attentionComposed(q, k, v, options),
      rtol: 1e-4, // measured errors are ~1e-6 (exp2 on the GPU vs exp on the CPU)
    });
  });

  it('at Nq = Nk = 4096 allocates far less than one Nq×Nk buffer, forward and backward', async () => {
    // The allocations do not depend on the head width (the tiles stay O(N)); the work does (N²·d),
    // so a narrow head keeps this cheap. Values at SD's widths are checked at small N above.
    const n = 4096;
    const d = 8;
    const q = tf.tensor(randomNormal(n * d, 1), [1, n, d]);
    const k = tf.tensor(randomNormal(n * d, 2), [1, n, d]);
    const v = tf.tensor(randomNormal(n * d, 3), [1, n, d]);
    const dy = tf.tensor(randomNormal(n * d, 4), [1, n, d]);
    await expectNoLeaks(async () => {
      const { result, peakBytes, largestBufferBytes } = await measureGpuMemory(() => {
        const s = attentionShapes(q, k, v, { numHeads: 1 });
        const { out, lse } = attentionForward(q, k, v, s);
        const grads = attentionBackward(dy, q, k, v, out, lse, s);
        lse.dispose();
        return [out, ...grads];
      });
      const limit = (n * n * 4) / 8;
      expect(peakBytes).toBeLessThan(limit);
      expect(largestBufferBytes).toBeLessThan(limit);
      for (const t of result) {
        const values = await t.data();
        expect(values.every(Number.isFinite), 'all values finite').toBe(true);
      }
      // The gradients are not all zero (dv = Pᵀ dO cannot vanish).
      const dvNorm = tf.tidy(() => tf.sum(tf.abs(result[3])));
      expect((await dvNorm.data())[0]).toBeGreaterThan(0);
      dvNorm.dispose();
      tf.dispose(result);
    });
    tf.dispose([q, k, v, dy]);
  });

  it('leaks nothing through tf.grads', async () => {
    const q = tf.tensor(randomNormal(2 * 9 * 16, 5), [2, 9, 16]);
    const k = tf.tensor(randomNormal(2 * 11 * 16, 6), [2, 11, 16]);
    await expectNoLeaks(async () => {
      const grads = tf.grads((a, b) => attention(a, b, b, { numHeads: 2, causal: true }))([q, k]);
      await Promise.all(grads.map((g) => g.data()));
      tf.dispose(grads);
    });
    tf.dispose([q, k]);
  });

  it('heads wider than the kernel takes (the VAE 512-wide head) run blocked, equal to the composed formula', async () => {
    await expectMatchesReference({
      inputs: [randomInput([1, 1100, 192], 21), randomInput([1, 9, 192], 22), randomInput([1, 9, 192], 23)],
      ours: (q, k, v) => attention(q, k, v, { numHeads: 1 }),
      reference: (q, k, v) => attentionComposed(q, k, v, { numHeads: 1 }),
      rtol: 1e-4,
    });
  });

  it('rejects bad shapes and head counts with a message', () => {
    const q = tf.zeros([1, 4, 8]);
    const k = tf.zeros([1, 5, 8]);
    expect(() => attention(q, k, tf.zeros([1, 6, 8]), { numHeads: 2 })).toThrow(/differ/);
    expect(() => attention(q, k, k, { numHeads: 3 })).toThrow(/does not divide/);
    expect(() => attention(q, tf.zeros([1, 5, 4]), tf.zeros([1, 5, 4]), { numHeads: 1 })).toThrow(/does not match/);
    const wide = tf.zeros([1, 2, 322]);
    expect(() => attentionShapes(wide, wide, wide, { numHeads: 1 })).toThrow(/exceeds/); // the kernel's limit; attention() goes blocked
    expect(() => attention(wide, wide, wide, { numHeads: 1, causal: true })).toThrow(/causal heads wider/);
    wide.dispose();
    tf.dispose([q, k]);
  });
});
