import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SOURCE, featureSource, loadFeatureSource, rememberedCached, rememberStatus, saveFeatureSource } from './feature-source';

function memory(): Pick<Storage, 'getItem' | 'setItem'> {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
}

const status = (cached: boolean) => [
  { role: 'clip' as const, repo: 'a', bytes: 1, cached },
  { role: 'dino' as const, repo: 'b', bytes: 1, cached },
];

describe('featureSource', () => {
  it('is a hub source with the repos, the endpoint without a trailing slash and the studio-served wasm', () => {
    const source = featureSource({ endpoint: 'http://127.0.0.1:4473/ ', clip: ' fixtures/clip-tiny', dino: 'fixtures/dinov2-tiny' });
    expect(source).toMatchObject({ kind: 'hub', endpoint: 'http://127.0.0.1:4473', clip: 'fixtures/clip-tiny', dino: 'fixtures/dinov2-tiny' });
    const wasm = (source as { wasmPaths: { wasm: string } }).wasmPaths.wasm;
    expect(wasm).not.toMatch(/jsdelivr/);
    expect(wasm).toMatch(/ort-wasm-simd-threaded\.asyncify/);
  });
});

describe('rememberedCached', () => {
  it('is true only for the source whose models were both found cached', () => {
    const storage = memory();
    expect(rememberedCached(DEFAULT_FEATURE_SOURCE, storage)).toBe(false);
    rememberStatus(DEFAULT_FEATURE_SOURCE, status(true), storage);
    expect(rememberedCached(DEFAULT_FEATURE_SOURCE, storage)).toBe(true);
    expect(rememberedCached({ ...DEFAULT_FEATURE_SOURCE, clip: 'other/clip' }, storage)).toBe(false);
  });

  it('forgets a source once one of its models is missing (or removed), and only that one', () => {
    const storage = memory();
    const mirror = { ...DEFAULT_FEATURE_SOURCE, endpoint: 'http://127.0.0.1:1' };
    rememberStatus(DEFAULT_FEATURE_SOURCE, status(true), storage);
    rememberStatus(mirror, status(true), storage);
    rememberStatus(DEFAULT_FEATURE_SOURCE, [status(true)[0], status(false)[1]], storage);
    expect(rememberedCached(DEFAULT_FEATURE_SOURCE, storage)).toBe(false);
    expect(rememberedCached(mirror, storage)).toBe(true);
    rememberStatus(mirror, [], storage);
    expect(rememberedCached(mirror, storage)).toBe(false);
  });

  it('reads unreadable storage as nothing remembered', () => {
    const storage = memory();
    storage.setItem('diffusion-studio:feature-models-cached', '{not json');
    expect(rememberedCached(DEFAULT_FEATURE_SOURCE, storage)).toBe(false);
  });
});

describe('loadFeatureSource', () => {
  it('gives the hub defaults first, then the source saved last', () => {
    const storage = memory();
    expect(loadFeatureSource(storage)).toEqual(DEFAULT_FEATURE_SOURCE);
    const mirror = { endpoint: 'http://127.0.0.1:4473', clip: 'fixtures/clip-tiny', dino: 'fixtures/dinov2-tiny' };
    saveFeatureSource(mirror, storage);
    expect(loadFeatureSource(storage)).toEqual(mirror);
    storage.setItem('diffusion-studio:feature-source', '{"endpoint": 3}');
    expect(loadFeatureSource(storage)).toEqual(DEFAULT_FEATURE_SOURCE);
  });
});
