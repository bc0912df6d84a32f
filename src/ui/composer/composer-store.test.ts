import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../engine/protocol';
import { adoptModelSettings, applyFill, setComposer, useComposer } from './composer-store';

const model = (id: string, steps: number) => ({ id, card: { generation: { size: 64, steps, guidanceScale: 5, sampler: 'euler' } } }) as unknown as ModelInfo;
const initial = useComposer.getState();

describe('composer store', () => {
  beforeEach(() => useComposer.setState(initial, true));

  it('takes a model’s recommended settings once, not again when the section comes back', () => {
    adoptModelSettings(model('a', 20));
    expect(useComposer.getState()).toMatchObject({ steps: 20, guidanceScale: 5, sampler: 'euler', size: 0, modelId: 'a' });
    setComposer({ steps: 3, prompt: 'kept' });
    adoptModelSettings(model('a', 20));
    expect(useComposer.getState()).toMatchObject({ steps: 3, prompt: 'kept' });
    adoptModelSettings(model('b', 30));
    expect(useComposer.getState()).toMatchObject({ steps: 30, prompt: 'kept' });
  });

  it('applies a fill exactly: a fixed seed, one image, the strengths, and what did not apply', () => {
    setComposer({ batch: 3, seedMode: 'random', strengths: { other: 0.2 } });
    applyFill({ prompt: 'p', negativePrompt: 'n', steps: 4, seed: 42, size: 64, strengths: { cube: 0.6 }, notes: ['Ignored: Version.'] }, 'a.png');
    expect(useComposer.getState()).toMatchObject({ prompt: 'p', negativePrompt: 'n', steps: 4, seed: '42', seedMode: 'fixed', size: 64, batch: 1, strengths: { other: 0.2, cube: 0.6 }, fillNotes: ['Settings read from a.png.', 'Ignored: Version.'] });
    applyFill({ prompt: 'q', negativePrompt: '', strengths: {}, notes: [] });
    expect(useComposer.getState()).toMatchObject({ prompt: 'q', steps: 4, seed: '42', fillNotes: null });
  });
});
