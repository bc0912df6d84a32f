import { describe, expect, it } from 'vitest';
import type { TrainerOptions } from './config';
import { trainerOptionProblems } from './option-limits';

const options = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({ method: 'both', token: '<t>', classWord: 'cat', steps: 500, resolution: 512, ...o });

describe('trainerOptionProblems', () => {
  it('passes the form defaults and the bounds themselves', () => {
    expect(trainerOptionProblems(options())).toEqual([]);
    expect(trainerOptionProblems(options({ steps: 1 }))).toEqual([]);
    expect(trainerOptionProblems(options({ steps: 10_000, warmupSteps: 10_000, numVectors: 16, rank: 128, seed: 0 }))).toEqual([]);
  });

  it('refuses steps outside 1 to 10,000 in a plain sentence', () => {
    expect(trainerOptionProblems(options({ steps: 0 }))).toEqual(['Steps must be a whole number from 1 to 10,000; it is 0.']);
    expect(trainerOptionProblems(options({ steps: 100_000 }))).toEqual(['Steps must be a whole number from 1 to 10,000; it is 100000.']);
    expect(trainerOptionProblems(options({ steps: 2.5 }))).toEqual(['Steps must be a whole number from 1 to 10,000; it is 2.5.']);
    expect(trainerOptionProblems(options({ steps: NaN }))[0]).toBe('Steps must be a whole number from 1 to 10,000; it is empty.');
  });

  it('names every other out-of-range number, in form order', () => {
    const problems = trainerOptionProblems(options({ resolution: 100, numVectors: 17, tiLearningRate: 0, rank: 0, alpha: -1, loraLearningRate: Infinity, warmupSteps: 501, seed: -1 }));
    expect(problems).toEqual([
      'Resolution must be a multiple of 8 from 8 pixels; it is 100.',
      'Vectors per token must be a whole number from 1 to 16; it is 17.',
      'Token learning rate must be a number above 0; it is 0.',
      'LoRA rank must be a whole number from 1 to 128; it is 0.',
      'LoRA alpha must be above 0; it is -1.',
      'LoRA learning rate must be a number above 0; it is Infinity.',
      'Warmup steps must be a whole number from 0 to 500; it is 501.',
      'Seed must be a whole number from 0; it is -1.',
    ]);
    expect(trainerOptionProblems(options({ resolution: 4 }))).toEqual(['Resolution must be a multiple of 8 from 8 pixels; it is 4.']);
    expect(trainerOptionProblems(options({ resolution: 32 }))).toEqual([]);
  });

  it("checks only the settings the method uses", () => {
    expect(trainerOptionProblems(options({ method: 'ti', rank: 0, loraLearningRate: 0 }))).toEqual([]);
    expect(trainerOptionProblems(options({ method: 'lora', numVectors: 99 }))).toEqual([]);
    expect(trainerOptionProblems(options({ method: 'lora', textEncoderLora: true, textEncoderLearningRate: 0 }))).toEqual(['Text encoder learning rate must be a number above 0; it is 0.']);
    expect(trainerOptionProblems(options({ method: 'lora', textEncoderLearningRate: 0 }))).toEqual([]);
  });
});

describe('DreamBooth bounds', () => {
  it('class images 1 to 1,000, class-image steps 1 to 200, a prior weight from 0; only for DreamBooth', () => {
    const base = { method: 'dreambooth' as const, token: '<x>', classWord: 'dog', steps: 10, resolution: 64 };
    expect(trainerOptionProblems(base)).toEqual([]);
    expect(trainerOptionProblems({ ...base, classImages: 0, classImageSteps: 201, priorLossWeight: -1 })).toEqual([
      'Class images must be a whole number from 1 to 1,000; it is 0.',
      'Class image steps must be a whole number from 1 to 200; it is 201.',
      'Prior loss weight must be a number from 0; it is -1.',
    ]);
    expect(trainerOptionProblems({ ...base, method: 'lora', classImages: 0 })).toEqual([]);
  });
});
