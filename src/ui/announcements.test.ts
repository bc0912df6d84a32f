import { describe, expect, it } from 'vitest';
import { announcement, type Announced } from './announcements';
import type { TrainingRun } from '../library/run-store';
import type { ModelInfo, Progress } from '../engine/protocol';

const idle: Announced = { generation: { state: 'idle' }, training: { state: 'idle' }, model: null, modelLoad: { state: 'idle' } };
const run = { runId: 'r', options: { token: '<my-cat>' }, steps: 40 } as TrainingRun;
const image = { width: 8, height: 8, data: new Uint8ClampedArray(256) };
const at = (step: number): Announced => ({ ...idle, training: { state: 'running', run, progress: { label: '', fraction: step / 40, training: { step, steps: 40 } } as Progress } });
const model = (id: string) => ({ id, card: { title: `Model ${id}` } }) as ModelInfo;

describe('the live region', () => {
  it('says a generation finished once, with its image count and seed', () => {
    const doneWith = (seed: number): Announced => ({ ...idle, generation: { state: 'done', result: { images: [image, image], seed, droppedText: '', droppedTokenCount: 0 }, options: { prompt: 'a' }, images: [] } });
    const done = doneWith(7);
    expect(announcement(idle, done)).toBe('Generated 2 images, seed 7.');
    expect(announcement(done, { ...done })).toBeNull(); // another change, same generation
    expect(announcement(done, doneWith(8))).toBe('Generated 2 images, seed 8.'); // the next queued one
  });

  it("says a run's start, each quarter mark (not every step), pause, end and failure", () => {
    const started: Announced = { ...idle, training: { state: 'running', run, progress: null } };
    expect(announcement(idle, started)).toBe('Training <my-cat> started: 40 steps.');
    expect(announcement(started, at(1))).toBeNull();
    expect(announcement(at(8), at(9))).toBeNull();
    expect(announcement(at(9), at(10))).toBe('Training: step 10 of 40.');
    expect(announcement(at(10), at(11))).toBeNull();
    expect(announcement(at(29), at(31))).toBe('Training: step 31 of 40.');
    expect(announcement(at(12), { ...idle, training: { state: 'paused', run, result: { step: 12, loss: 0.1 } } })).toBe('Training paused at step 12.');
    expect(announcement(at(40), { ...idle, training: { state: 'done', run, result: { step: 40, loss: 0.1 }, conceptId: 'c' } })).toBe('Training done: <my-cat> is in the library.');
    expect(announcement(at(3), { ...idle, training: { state: 'failed', run, error: { name: 'DeviceLost', message: 'The GPU was lost.', hint: '' } } })).toBe('Training stopped: The GPU was lost.');
  });

  it('says a newly loaded model by its title, not again when the same model is read back', () => {
    expect(announcement(idle, { ...idle, model: model('a') })).toBe('Model a is loaded.');
    expect(announcement({ ...idle, model: model('a') }, { ...idle, model: model('a') })).toBeNull();
  });
});
