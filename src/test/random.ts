/** Seeded test data: the studio's own generator (src/model/random.ts). */
export { randomNormal, rng } from '../model/random';
