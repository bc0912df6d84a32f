/**
 * The size warning and refusal on the New concept form, before a run starts: the resolution
 * checked against the model's size profile and the GPU's limits.
 */
import { readFileSync } from 'node:fs';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { parseUNetConfig, parseVaeConfig } from '../../model/config';
import { checkImageSize, sizeProfile } from '../../model/size-cost';
import type { TrainerOptions } from '../../train/config';
import { ConceptForm } from './ConceptForm';

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const sizes = sizeProfile(parseUNetConfig(json('../../../public/models/shapes-sd/unet/config.json')), parseVaeConfig(json('../../../public/models/shapes-sd/vae/config.json')));
const MB = 2 ** 20;
const limits = (maxStorageBufferBindingSize: number) => ({ maxBufferSize: 4096 * MB, maxStorageBufferBindingSize });
const options = (resolution: number): TrainerOptions => ({ method: 'ti', token: '<t>', classWord: 'cat', steps: 10, resolution });
function conceptForm(resolution: number, holds = 1024 * MB): string {
  const size = checkImageSize(sizes, { width: resolution, height: resolution, rows: 1, images: 1, purpose: 'training' }, limits(holds));
  return renderToStaticMarkup(createElement(ConceptForm, { options: options(resolution), ready: true, running: false, busy: false, size }));
}
const trainButton = (html: string) => /<button[^>]*>Train<\/button>/.exec(html)?.[0] ?? '';

describe('New concept: the resolution checked before training', () => {
  it('nothing at the native size or twice it', () => {
    for (const r of [64, 128]) expect(conceptForm(r)).not.toContain('data-testid="size-note"');
  });

  it('above twice native, a warning with the scale, memory and time; Train stays on', () => {
    const html = conceptForm(1000);
    expect(html).toMatch(/<p role="status" class="warning" data-testid="size-note">1000 px is 15\.6× this model&#x27;s 64 px: about [\d.]+ (MB|GB) of activations and [\d,]+× the time per step\. Cancel stops it within a step\.<\/p>/);
    expect(trainButton(html)).not.toMatch(/disabled/);
  });

  it('more than the adapter holds: refused, and Train is off', () => {
    const html = conceptForm(1000, 64 * MB);
    expect(html).toMatch(/<p role="alert" class="error" data-testid="size-note">1000 px is too large for training on this GPU: .* the adapter holds at most 64 MB in one\.<\/p>/);
    expect(trainButton(html)).toMatch(/disabled/);
  });

  it('not shown while a run is under way (its settings are fixed)', () => {
    const size = checkImageSize(sizes, { width: 1000, height: 1000, rows: 1, images: 1, purpose: 'training' }, limits(1024 * MB));
    const html = renderToStaticMarkup(createElement(ConceptForm, { options: options(1000), ready: false, running: true, busy: true, size }));
    expect(html).not.toContain('data-testid="size-note"');
  });
});
