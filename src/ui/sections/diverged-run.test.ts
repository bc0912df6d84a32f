/**
 * What the Training card shows for a run that diverged, rendered to markup: the named error, the
 * run's rates at a tenth in editable fields, and Resume from the last good checkpoint (or Start
 * again when none was kept); any other failure keeps the plain card.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SerializedError } from '../../common/errors';
import type { TrainingRun } from '../../library/run-store';
import { nameOfId } from '../../model/sources/model-id';
import { lowerRates } from './DivergedRun';
import { TrainingState } from './TrainingState';

const run = (o: Partial<TrainingRun> = {}): TrainingRun => ({
  runId: 'run-1',
  options: { method: 'both', token: '<t>', classWord: 'cat', steps: 10, resolution: 64, tiLearningRate: 1e4, loraLearningRate: 2e-4 },
  photos: [],
  modelId: 'builtin:shapes-sd',
  state: 'failed',
  step: 4,
  steps: 10,
  updated: 0,
  ...o,
});
const diverged: SerializedError = { name: 'TrainingDiverged', message: 'Training diverged at step 6: lower the learning rate.', hint: 'Lower the learning rate and resume from the last checkpoint.' };
const card = (r: TrainingRun, error = diverged, id = 'builtin:shapes-sd') => renderToStaticMarkup(createElement(TrainingState, { training: { state: 'failed', run: r, error }, model: { id, name: nameOfId(id) } }));
const field = (html: string, name: string) => new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0] ?? null;

describe('a diverged run', () => {
  it('says where it diverged and offers Resume from the last good checkpoint at a tenth of its rates', () => {
    const html = card(run());
    expect(html).toContain('Training diverged at step 6: lower the learning rate.');
    expect(html).toContain('Resume from the last good checkpoint (step 4) at a lower learning rate.');
    expect(field(html, 'tiLearningRate')).toMatch(/value="1000"/);
    expect(field(html, 'loraLearningRate')).toMatch(/value="0.00002"/);
    expect(field(html, 'textEncoderLearningRate')).toBeNull();
    expect(html).toMatch(/<button type="button">Resume at these rates<\/button>/);
  });

  it('offers to start again when no checkpoint was kept, and names the model to load when another is loaded', () => {
    expect(card(run({ step: 0 }))).toMatch(/No checkpoint was kept.*<button type="button">Start again at these rates<\/button>/);
    expect(card(run(), diverged, 'hf:other/sd@main')).toContain('Load shapes-sd (builtin:shapes-sd) in Models to resume.');
  });

  it('lowers only the rates the method trains, the text encoder\'s too when it has a LoRA', () => {
    expect(lowerRates(run({ options: { ...run().options, method: 'ti' } }))).toEqual({ tiLearningRate: 1000 });
    expect(lowerRates(run({ options: { ...run().options, method: 'lora', textEncoderLora: true } }))).toEqual({ loraLearningRate: 2e-5, textEncoderLearningRate: 1e-5 });
  });

  it('any other failure keeps the plain card', () => {
    const html = card(run(), { name: 'InternalError', message: 'boom', hint: 'reload' });
    expect(html).toContain('boom');
    expect(html).not.toContain('at these rates');
  });
});
