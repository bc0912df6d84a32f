import { describe, expect, it } from 'vitest';
import type { TrainingRun } from '../library/run-store';
import { hasCheckpoint, restoredTraining } from './restored-run';

const run = (over: Partial<TrainingRun> = {}): TrainingRun => ({
  runId: 'run-1',
  options: { method: 'ti', token: '<t>', classWord: 'cat', steps: 20, resolution: 64 },
  photos: [],
  modelId: 'builtin:shapes-sd',
  state: 'running',
  step: 10,
  steps: 20,
  updated: 1,
  ...over,
});
const preview = { step: 10, prompt: 'a <t>', image: { width: 1, height: 1, data: new Uint8ClampedArray(4) } };

describe('a run after a reload', () => {
  it('paused by the person comes back paused at its step, with its loss and previews', () => {
    const r = run({ state: 'paused', step: 12, loss: 0.25, previews: [preview] });
    expect(restoredTraining(r)).toEqual({ training: { state: 'paused', run: r, result: { step: 12, loss: 0.25 } }, samples: [preview] });
  });

  it('paused by an older studio (no loss kept) is still paused, its loss unknown', () => {
    const { training } = restoredTraining(run({ state: 'paused' }));
    expect(training.state).toBe('paused');
    expect(training.state === 'paused' && Number.isNaN(training.result.loss)).toBe(true);
  });

  it('failed comes back with its error; one stopped mid-run (tab closed) is interrupted', () => {
    const error = { name: 'InvalidRequest', message: 'Steps must be …', hint: '' } as const;
    expect(restoredTraining(run({ state: 'failed', step: 0, error })).training).toMatchObject({ state: 'failed', error });
    expect(restoredTraining(run()).training).toMatchObject({ state: 'interrupted' });
    expect(restoredTraining(run()).samples).toEqual([]);
  });

  it('has a checkpoint to resume from once its stored step is past 0', () => {
    expect(hasCheckpoint(run({ step: 0 }))).toBe(false);
    expect(hasCheckpoint(run({ step: 5 }))).toBe(true);
  });
});
