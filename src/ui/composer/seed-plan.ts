/**
 * The seed a queued generation uses, by the composer's seed mode: a new random one each time,
 * the same one, or the next ones (+1 per image, so every image of the queue has its own).
 */
export type SeedMode = 'random' | 'fixed' | 'increment';

/** The modes as the form's "Each generation" list names them (no "seed" there: the Seed field's label is its own). */
export const SEED_MODES: [SeedMode, string][] = [
  ['random', 'random'],
  ['fixed', 'the same'],
  ['increment', '+1 per image'],
];

const MAX_SEED = 2 ** 32;

export function randomSeed(): number {
  return Math.floor(Math.random() * MAX_SEED);
}

/** The seed for a job of `images` images, and what the Seed field holds after it. */
export function planSeed(mode: SeedMode, field: string, images: number, random: () => number = randomSeed): { seed: number; field: string } {
  const typed = field.trim() === '' ? null : Number(field) % MAX_SEED;
  if (mode === 'random' || typed === null) {
    const seed = random();
    return { seed, field: mode === 'random' ? field : String(mode === 'increment' ? (seed + images) % MAX_SEED : seed) };
  }
  return { seed: typed, field: mode === 'increment' ? String((typed + images) % MAX_SEED) : field };
}

/** A seed typed in the field: a random-seed form now uses it; an emptied field is random again. */
export function typedSeed(seed: string, mode: SeedMode): { seed: string; seedMode: SeedMode } {
  return { seed, seedMode: seed === '' ? 'random' : mode === 'random' ? 'fixed' : mode };
}
