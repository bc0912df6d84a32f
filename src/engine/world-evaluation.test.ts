/** Which evaluations score the shapes world, its prompts, and how its images are grouped and scored (no GPU: rendered images). */
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_ID } from '../model/sources/builtin';
import { COLORS } from '../world/palette';
import { renderScene } from '../world/render';
import { canonicalImage, sampleConcept } from '../world/sample-concepts';
import { evaluationSample, worldEvaluation, worldPrompts } from './world-evaluation';

const teal = sampleConcept('teal-heart')!;

describe('evaluationSample', () => {
  it("is the sample concept with the concept's token, on the built-in model only", () => {
    expect(evaluationSample(BUILTIN_MODEL_ID, '<teal-heart>')).toBe(teal);
    expect(evaluationSample(BUILTIN_MODEL_ID, '<my-heart>')).toBeNull();
    expect(evaluationSample('local:tiny-sd#abc', '<teal-heart>')).toBeNull();
  });
});

describe('worldPrompts', () => {
  it('is the fidelity prompt then the edits, with the concept and with the class word', () => {
    expect(worldPrompts(teal, '<teal-heart>', 'heart')).toEqual([
      { prompt: 'a photo of a <teal-heart>', classPrompt: 'a photo of a heart', wanted: null },
      { prompt: 'a <teal-heart> on the left on a yellow background', classPrompt: 'a heart on the left on a yellow background', wanted: { position: 'left', background: 'yellow' } },
      { prompt: 'a small <teal-heart> at the top, black background', classPrompt: 'a small heart at the top, black background', wanted: { size: 'small', position: 'top', background: 'black' } },
    ]);
  });
});

describe('worldEvaluation', () => {
  it("scores the concept's images and the baseline's apart, each prompt's seeds together", () => {
    const prompts = worldPrompts(teal, '<teal-heart>', 'heart');
    const blank = renderScene({ background: COLORS.white, objects: [] });
    const left = renderScene({ background: COLORS.yellow, objects: [{ shape: 'heart', cx: 20, cy: 32, r: 10, color: teal.colors[0] }] });
    const top = renderScene({ background: COLORS.black, objects: [{ shape: 'heart', cx: 32, cy: 20, r: 10, color: teal.colors[0] }] });
    // two seeds: the baseline draws nothing; the concept draws itself, then each edit as asked
    const images = [...Array(6).fill(blank).map((image) => ({ baseline: true, image })), ...[canonicalImage(teal), canonicalImage(teal), left, left, top, top].map((image) => ({ baseline: false, image }))];
    const w = worldEvaluation(teal, prompts, images, 2);
    expect(w.sample).toBe('teal-heart');
    expect(w.concept.fidelity).toMatchObject({ fgColorDist: 0, maskIou: 1, bgDist: 0 });
    expect(w.concept.editability).toEqual({ position: 1, background: 1, size: 1 });
    expect(w.baseline.fidelity).toMatchObject({ fgColorDist: 441.7, maskIou: 0 });
    expect(w.baseline.editability).toEqual({ position: 0, background: 0, size: 0 });
    expect(() => worldEvaluation(teal, prompts, images.slice(1), 2)).toThrow(RangeError);
  });
});
