import { describe, expect, it } from 'vitest';
import { lossSummary } from './loss-summary';

describe('lossSummary', () => {
  it("tells the last step's loss and the lowest smoothed loss", () => {
    const curve = { steps: Uint32Array.of(1, 2, 3), loss: Float32Array.of(0.5, 0.2, 0.4), smoothed: Float32Array.of(0.5, 0.3, 0.35), lr: new Float32Array(3) };
    expect(lossSummary(curve)).toBe('Step 3: loss 0.4000, smoothed 0.3500; lowest smoothed 0.3000 at step 2.');
  });

  it('says when there is nothing yet', () => {
    expect(lossSummary(null)).toBe('No steps yet.');
    expect(lossSummary({ steps: new Uint32Array(0), loss: new Float32Array(0), smoothed: new Float32Array(0), lr: new Float32Array(0) })).toBe('No steps yet.');
  });
});
