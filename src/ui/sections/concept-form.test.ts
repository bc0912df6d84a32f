/**
 * The New concept form's text-encoder LoRA setting, rendered to markup: offered for the LoRA
 * methods only, its rate shown once it is on (half the LoRA's unless set), and, with every other
 * setting, fixed while a run is under way.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { TrainerOptions } from '../../train/config';
import { ConceptForm } from './ConceptForm';

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({ method: 'lora', token: '<t>', classWord: 'cat', steps: 10, resolution: 64, ...o });
const form = (o: TrainerOptions, busy = false) => renderToStaticMarkup(createElement(ConceptForm, { options: o, ready: !busy, running: busy, busy, size: null }));
const field = (html: string, name: string) => new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0] ?? null;

describe('New concept form: LoRA on the text encoder', () => {
  it('is a checkbox with its hint for LoRA and both, not for textual inversion alone', () => {
    for (const method of ['lora', 'both'] as const) {
      const html = form(options({ method }));
      expect(field(html, 'textEncoderLora')).toMatch(/type="checkbox"/);
      expect(field(html, 'textEncoderLora')).not.toMatch(/checked/);
      expect(html).toContain('LoRA on the text encoder too');
      expect(html).toContain('a larger file, and it can overfit the words');
    }
    expect(field(form(options({ method: 'ti' })), 'textEncoderLora')).toBeNull();
  });

  it('shows its learning rate once on: half the LoRA rate unless set', () => {
    expect(field(form(options()), 'textEncoderLearningRate')).toBeNull();
    expect(field(form(options({ textEncoderLora: true, loraLearningRate: 4e-4 })), 'textEncoderLearningRate')).toMatch(/value="0.0002"/);
    expect(field(form(options({ textEncoderLora: true, textEncoderLearningRate: 3e-5 })), 'textEncoderLearningRate')).toMatch(/value="0.00003"/);
  });

  it('is fixed, with every other setting, while a run is under way', () => {
    const idle = form(options({ textEncoderLora: true }));
    const busy = form(options({ textEncoderLora: true }), true);
    expect(idle).not.toMatch(/<fieldset class="settings" disabled/);
    expect(busy).toMatch(/<fieldset class="settings" disabled=""/);
    // every setting is inside it; only the buttons are outside
    const inside = /<fieldset class="settings"[^>]*>([\s\S]*)<\/fieldset><div class="row"><button/.exec(busy)?.[1] ?? '';
    for (const name of ['token', 'steps', 'rank', 'textEncoderLora', 'textEncoderLearningRate']) expect(field(inside, name), name).not.toBeNull();
  });
});

describe('New concept form: presets and bounds', () => {
  const radio = (html: string, preset: string) => new RegExp(`<input[^>]*name="preset"[^>]*value="${preset}"[^>]*>`).exec(html)?.[0] ?? null;
  const trainButton = (html: string) => /<button[^>]*>Train<\/button>/.exec(html)?.[0] ?? '';

  it('shows Quick, Standard and Best as radios with their steps; the draft defaults are Standard', () => {
    const html = form(options({ method: 'both', steps: 500, resolution: 512 }));
    expect(html).toMatch(/<legend>Preset<\/legend>/);
    for (const [preset, steps] of [['quick', 250], ['standard', 500], ['best', 1500]] as const) {
      expect(radio(html, preset)).toMatch(/type="radio"/);
      expect(html).toContain(`${preset[0].toUpperCase()}${preset.slice(1)} (${steps} steps)`);
    }
    expect(radio(html, 'standard')).toMatch(/checked/);
    expect(radio(html, 'quick')).not.toMatch(/checked/);
    expect(html).not.toContain('data-testid="preset-custom"');
  });

  it('reads Custom, no radio checked, once a setting a preset sets is edited', () => {
    const html = form(options({ method: 'both', steps: 500, resolution: 512, rank: 8 }));
    expect(html).toContain('data-testid="preset-custom"');
    for (const preset of ['quick', 'standard', 'best']) expect(radio(html, preset)).not.toMatch(/checked/);
  });

  it('turns Train off for steps 0 or 100000, saying why beside it', () => {
    for (const steps of [0, 100_000]) {
      const html = form(options({ steps }));
      expect(html).toContain(`Steps must be a whole number from 1 to 10,000; it is ${steps}.`);
      expect(trainButton(html)).toMatch(/disabled=""/);
      expect(trainButton(html)).toMatch(/aria-describedby="option-problems"/);
    }
    expect(trainButton(form(options({ steps: 10 })))).not.toMatch(/disabled/);
  });
});

describe('New concept form: the per-method settings', () => {
  it('Perfusion: one vector (no Vectors per token field), the token learning rate, no LoRA settings; the class word is asked for', () => {
    const html = form(options({ method: 'perfusion', numVectors: 1 }));
    expect(field(html, 'numVectors')).toBeNull();
    expect(field(html, 'tiLearningRate')).not.toBeNull();
    expect(field(html, 'rank')).toBeNull();
    expect(field(html, 'classImages')).toBeNull();
    expect(field(html, 'classWord')).toMatch(/value="cat"/);
    expect(html).toContain('keys are locked to the class word');
    expect(/<option value="perfusion"[^>]*>Perfusion \(key-locked edit\)<\/option>/.test(html)).toBe(true);
  });

  it('textual inversion still offers Vectors per token', () => {
    expect(field(form(options({ method: 'ti' })), 'numVectors')).not.toBeNull();
  });
});
