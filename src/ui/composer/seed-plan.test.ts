import { describe, expect, it } from 'vitest';
import { planSeed, typedSeed } from './seed-plan';

describe('planSeed', () => {
  it('random: a new seed each time, the field left as typed', () => {
    expect(planSeed('random', '42', 2, () => 7)).toEqual({ seed: 7, field: '42' });
  });

  it('fixed: the typed seed every time; an empty field gets the random seed it used', () => {
    expect(planSeed('fixed', '42', 2)).toEqual({ seed: 42, field: '42' });
    expect(planSeed('fixed', '', 1, () => 9)).toEqual({ seed: 9, field: '9' });
  });

  it('+1 per image: the next job starts after this one’s images', () => {
    const first = planSeed('increment', '42', 3);
    expect(first).toEqual({ seed: 42, field: '45' });
    expect(planSeed('increment', first.field, 1)).toEqual({ seed: 45, field: '46' });
    expect(planSeed('increment', String(2 ** 32 - 1), 1)).toEqual({ seed: 2 ** 32 - 1, field: '0' });
  });
});

describe('typedSeed', () => {
  it('a typed seed makes a random form fixed, keeps +1, and an emptied field is random again', () => {
    expect(typedSeed('42', 'random')).toEqual({ seed: '42', seedMode: 'fixed' });
    expect(typedSeed('42', 'increment')).toEqual({ seed: '42', seedMode: 'increment' });
    expect(typedSeed('', 'fixed')).toEqual({ seed: '', seedMode: 'random' });
  });
});
