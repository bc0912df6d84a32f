import { describe, expect, it } from 'vitest';
import type { GenerationSettings } from './generation-settings';
import { parseParameters, readPngParameters } from './png-parameters';
import { infotextOfSettings, pngWithSettings } from './settings-infotext';

const settings: GenerationSettings = {
  prompt: 'a <teal-heart> and a <my-dog> dog, oil painting',
  negativePrompt: 'blurry',
  steps: 20,
  guidanceScale: 7.5,
  sampler: 'euler',
  seed: 1234,
  width: 64,
  height: 64,
  modelId: 'builtin:shapes-sd',
  modelName: 'shapes-sd',
  concepts: [
    { id: 'a', token: '<teal-heart>', method: 'ti', strength: 1 },
    { id: 'b', token: '<my-dog>', method: 'both', strength: 0.8, textEncoderStrength: 0.5 },
  ],
};

describe('infotextOfSettings', () => {
  it("writes A1111's layout: prompt, LoRA tags of the kohya files, negative prompt, settings line", () => {
    expect(infotextOfSettings(settings)).toBe(
      'a <teal-heart> and a <my-dog> dog, oil painting <lora:my-dog-lora-kohya:0.5:0.8>\nNegative prompt: blurry\nSteps: 20, Sampler: Euler, CFG scale: 7.5, Seed: 1234, Size: 64x64, Model: shapes-sd',
    );
  });

  it('round-trips through a PNG', () => {
    const png = pngWithSettings({ width: 2, height: 1, data: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]) }, settings);
    const p = parseParameters(readPngParameters(png)!);
    expect(p).toMatchObject({ prompt: settings.prompt, negativePrompt: 'blurry', steps: 20, sampler: 'Euler', guidanceScale: 7.5, seed: 1234, width: 64, height: 64, model: 'shapes-sd' });
    expect(p.loras).toEqual([{ name: 'my-dog-lora-kohya', strength: 0.8, textEncoderStrength: 0.5 }]);
  });
});
