import { describe, expect, it } from 'vitest';
import { thumbnailSize } from './gallery-thumbnail';

describe('thumbnailSize', () => {
  it('fits the longer side in 256 px, keeps the shape and never enlarges', () => {
    expect(thumbnailSize(512, 512)).toEqual({ width: 256, height: 256 });
    expect(thumbnailSize(768, 512)).toEqual({ width: 256, height: 171 });
    expect(thumbnailSize(512, 1024)).toEqual({ width: 128, height: 256 });
    expect(thumbnailSize(64, 64)).toEqual({ width: 64, height: 64 });
  });
});
