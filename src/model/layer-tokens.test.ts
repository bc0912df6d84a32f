import { describe, expect, it } from 'vitest';
import { layerRows, rowAtLayer, usesLayerTokens } from './layer-tokens';

describe('per-layer prompt rows (P+)', () => {
  const map = new Map([[100, [100, 101, 102]], [200, [200, 201, 202]]]);

  it('replaces each P+ token by its id at the layer, leaving other ids', () => {
    expect(rowAtLayer([1, 100, 5, 200, 100], map, 2)).toEqual([1, 102, 5, 202, 102]);
    expect(usesLayerTokens([[1, 2], [3, 200]], map)).toBe(true);
    expect(usesLayerTokens([[1, 2]], map)).toBe(false);
  });

  it('encodes each distinct row once: a row without P+ tokens (the negative prompt) is shared by every layer', () => {
    const { unique, index } = layerRows([[0, 9], [0, 100]], map, 3);
    expect(unique).toEqual([[0, 9], [0, 100], [0, 101], [0, 102]]);
    expect(index).toEqual([[0, 1], [0, 2], [0, 3]]);
  });

  it('refuses a map whose token has another number of layer ids', () => {
    expect(() => layerRows([[100]], new Map([[100, [100, 101]]]), 3)).toThrow(/2 layer ids, 3 layers/);
  });
});
