import { describe, expect, it } from 'vitest';
import { TRAINING_METHODS } from '../train/config';
import { METHOD_CHOICES, methodChoice } from './training-methods';

describe('the methods New concept offers', () => {
  it('offers every training method once, each with what it trades', () => {
    expect(METHOD_CHOICES.map((m) => m.method).sort()).toEqual([...TRAINING_METHODS].sort());
    for (const m of METHOD_CHOICES) {
      expect(m.label.length).toBeGreaterThan(0);
      expect(m.trade).toMatch(/\.$/);
    }
    expect(methodChoice('pplus').trade).toContain('16 cross-attention layers');
    expect(methodChoice('perfusion').trade).toContain('100 KB');
    expect(methodChoice('perfusion').trade).toContain('class word');
  });
});
