/**
 * The studio's seeded random numbers: same seed, same numbers, same image (in a given browser
 * engine). Uniforms: mulberry32 over the 32-bit seed. Normals: Box–Muller, one normal per pair of
 * uniforms (the cosine branch), computed on the CPU so every GPU gives the same latents.
 */

/** mulberry32 with its state in the open, so a run can save it and go on from it. */
export class SeededRng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(Math.floor(this.next() * n), n - 1);
  }

  /** `n` normals times `scale`, each from two uniforms. */
  normals(n: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = Math.max(this.next(), 1e-12);
      out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    }
    return out;
  }
}

/** Uniforms in [0, 1) from `seed`. */
export function rng(seed: number): () => number {
  const generator = new SeededRng(seed);
  return () => generator.next();
}

export function randomNormal(n: number, seed: number, scale = 1): Float32Array {
  return new SeededRng(seed).normals(n, scale);
}
