import { describe, expect, it } from 'vitest';
import type { GenerationSettings } from '../../library/generation-settings';
import { infotextOfSettings } from '../../library/settings-infotext';
import { fillOfInfotext, fillOfSettings } from './composer-fill';

const library = [
  { id: 'cube', token: '<my-cube>' },
  { id: 'dog', token: '<my-dog>' },
];

/** Exactly as AUTOMATIC1111 1.x writes it (modules/processing.py create_infotext). */
const A1111 = [
  'a photo of <my-dog> on the beach, <lora:my-dog-lora-kohya:0.7>, <lora:add_detail:1>, masterpiece',
  'Negative prompt: lowres, bad anatomy, <bad-hands>',
  'Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, Version: v1.10.1',
].join('\n');

describe('fillOfInfotext', () => {
  it("fills from an A1111 infotext and says what does not apply", () => {
    const fill = fillOfInfotext(A1111, library, 'shapes-sd');
    expect(fill).toMatchObject({ prompt: 'a photo of <my-dog> on the beach, masterpiece', negativePrompt: 'lowres, bad anatomy, <bad-hands>', steps: 30, guidanceScale: 6.5, seed: 3141592, size: 512, strengths: { dog: 0.7 } });
    expect(fill.sampler).toBeUndefined();
    expect(fill.notes).toEqual([
      'LoRA not in your library, left out: add_detail.',
      'Not in your library (kept as text): <bad-hands>.',
      'Sampler “DPM++ 2M” is not in the studio: the form\'s sampler is kept.',
      'Made with the model “v1-5-pruned-emaonly”; shapes-sd is loaded, so the image will differ.',
      'Size 512×768: the studio makes square images, so 512×512.',
      'Ignored: Schedule type, Model hash, Clip skip, Version.',
    ]);
  });

  it('maps a LoRA tag named by the token without brackets, and puts its token in the prompt', () => {
    const fill = fillOfInfotext('a red ball <lora:my-cube:0.4>\nSteps: 4, Sampler: Euler, CFG scale: 5, Seed: 9, Size: 64x64', library, null);
    expect(fill).toMatchObject({ prompt: 'a red ball <my-cube>', sampler: 'euler', steps: 4, seed: 9, size: 64, strengths: { cube: 0.4 }, notes: [] });
  });

  it('reads back exactly what the studio writes', () => {
    const settings: GenerationSettings = {
      prompt: 'a <my-cube> on a table',
      negativePrompt: 'blurry',
      steps: 3,
      guidanceScale: 4.5,
      sampler: 'ddim',
      seed: 77,
      width: 64,
      height: 64,
      modelId: 'hf:fixtures/tiny-sd@abc',
      modelName: 'fixtures/tiny-sd',
      concepts: [{ id: 'cube', token: '<my-cube>', method: 'lora', strength: 0.6 }],
    };
    expect(fillOfInfotext(infotextOfSettings(settings), library, 'fixtures/tiny-sd')).toEqual({ ...fillOfSettings(settings), strengths: { cube: 0.6 } });
  });

  it('keeps the form’s values for what the text lacks, and says so', () => {
    const fill = fillOfInfotext('just a prompt', library, null);
    expect(fill).toEqual({ prompt: 'just a prompt', negativePrompt: '', strengths: {}, notes: ["Not in the file, the form's kept: Steps, CFG scale, Seed."] });
  });
});

describe('fillOfSettings', () => {
  it('takes every setting and the LoRA strengths by concept id', () => {
    const fill = fillOfSettings({ prompt: 'p', negativePrompt: 'n', steps: 2, guidanceScale: 3, sampler: 'euler', seed: 5, width: 64, height: 64, modelId: 'm', modelName: 'm', concepts: [{ id: 'a', token: '<a>', method: 'ti', strength: 1 }, { id: 'b', token: '<b>', method: 'both', strength: 0.3 }] });
    expect(fill).toEqual({ prompt: 'p', negativePrompt: 'n', steps: 2, guidanceScale: 3, sampler: 'euler', seed: 5, size: 64, strengths: { b: 0.3 }, notes: [] });
  });
});
