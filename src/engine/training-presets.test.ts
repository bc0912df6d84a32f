import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_CARD, defaultModelCard } from '../model/sources/builtin';
import type { TrainerOptions } from '../train/config';
import { trainerOptionProblems } from '../train/option-limits';
import { applyPreset, matchingPreset, PRESETS, presetSettings } from './training-presets';

const sd15 = { card: defaultModelCard('stable-diffusion-v1-5', 512), imageSize: 512 };
const builtin = { card: BUILTIN_MODEL_CARD, imageSize: 64 };
const draft = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({ method: 'both', token: '<t>', classWord: 'cat', steps: 500, resolution: 512, ...o });

describe('training presets', () => {
  it('are the trainers\' figures for SD 1.x: diffusers and A1111 for TI, diffusers and kohya for LoRA', () => {
    expect(presetSettings('ti', 'standard', sd15)).toEqual({ steps: 1500, numVectors: 1, tiLearningRate: 5e-3 });
    expect(presetSettings('ti', 'best', sd15)).toEqual({ steps: 3000, numVectors: 2, tiLearningRate: 5e-4 });
    expect(presetSettings('lora', 'standard', sd15)).toEqual({ steps: 500, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false });
    expect(presetSettings('lora', 'best', sd15)).toEqual({ steps: 1500, rank: 16, loraLearningRate: 1e-4, textEncoderLora: true, textEncoderLearningRate: 5e-5 });
    expect(presetSettings('both', 'quick', null).steps).toBe(250);
  });

  it('grow from Quick to Best, and every one is within the form\'s bounds', () => {
    for (const method of ['ti', 'lora', 'both'] as const) {
      const steps = PRESETS.map((p) => presetSettings(method, p, sd15).steps);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
      for (const p of PRESETS) expect(trainerOptionProblems(applyPreset(draft({ method }), p, sd15))).toEqual([]);
    }
  });

  it('take the model card\'s recommended steps as Standard and keep their ratio to it', () => {
    expect(PRESETS.map((p) => presetSettings('both', p, builtin).steps)).toEqual([50, 100, 300]);
    expect(PRESETS.map((p) => presetSettings('ti', p, builtin).steps)).toEqual([33, 100, 200]);
    const rates = { card: { ...defaultModelCard('m', 512), training: { steps: 1000, tiLearningRate: 1e-3, loraLearningRate: 2e-4 } }, imageSize: 512 };
    expect(presetSettings('ti', 'best', rates)).toEqual({ steps: 2000, numVectors: 2, tiLearningRate: 1e-4 });
    expect(presetSettings('both', 'standard', rates)).toMatchObject({ steps: 1000, tiLearningRate: 1e-3, loraLearningRate: 2e-4 });
  });

  it('a new concept\'s draft (the store\'s defaults) is Standard, on SD 1.x and on the built-in model', () => {
    expect(matchingPreset(draft(), sd15)).toBe('standard');
    expect(matchingPreset(draft({ steps: 100, resolution: 64 }), builtin)).toBe('standard');
  });

  it('applying one sets its fields and is then matched; editing any of them is Custom (null)', () => {
    const best = applyPreset(draft({ alpha: 2 }), 'best', sd15);
    expect(best).toMatchObject({ steps: 1500, numVectors: 2, rank: 16, textEncoderLora: true, textEncoderLearningRate: 5e-5, token: '<t>', resolution: 512 });
    expect(best.alpha).toBeUndefined();
    expect(matchingPreset(best, sd15)).toBe('best');
    for (const edit of [{ steps: 1501 }, { rank: 8 }, { numVectors: 1 }, { tiLearningRate: 1e-3 }, { textEncoderLearningRate: 1e-5 }, { alpha: 4 }]) {
      expect(matchingPreset({ ...best, ...edit }, sd15), JSON.stringify(edit)).toBeNull();
    }
    // settings no preset sets leave it as it was
    expect(matchingPreset({ ...best, seed: 5, warmupSteps: 10 }, sd15)).toBe('best');
  });
});
