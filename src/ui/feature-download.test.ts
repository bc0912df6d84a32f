import { describe, expect, it } from 'vitest';
import { cachedFeatureBytes, downloadQuestion } from './feature-download';

const clip = { role: 'clip' as const, repo: 'Xenova/clip-vit-base-patch32', bytes: 300 * 2 ** 20, cached: false };
const dino = { role: 'dino' as const, repo: 'Xenova/dinov2-small', bytes: 50 * 2 ** 20, cached: false };

describe('downloadQuestion', () => {
  it('asks for the bytes of both models when neither is in the browser', () => {
    const q = downloadQuestion([clip, dino])!;
    expect(q.bytes).toBe(350 * 2 ** 20);
    expect(q.question).toBe('Download 350 MiB of feature models?');
    expect(q.models).toEqual(['Xenova/clip-vit-base-patch32 (CLIP, 300 MiB)', 'Xenova/dinov2-small (DINOv2, 50.0 MiB)']);
  });

  it('counts only what is still to fetch', () => {
    expect(downloadQuestion([{ ...clip, cached: true }, dino])?.question).toBe('Download 50.0 MiB of feature models?');
  });

  it('asks nothing once both are cached', () => {
    expect(downloadQuestion([{ ...clip, cached: true }, { ...dino, cached: true }])).toBeNull();
  });
});

describe('cachedFeatureBytes', () => {
  it('adds up the models held in the browser only', () => {
    expect(cachedFeatureBytes([{ ...clip, cached: true }, dino])).toBe(300 * 2 ** 20);
    expect(cachedFeatureBytes([clip, dino])).toBe(0);
  });
});
