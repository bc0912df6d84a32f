import { describe, expect, it } from 'vitest';
import { cosineMatrix, meanCosine, meanMutualCosine, normalizeRows } from './similarity';
import { classSuggestion, CLASS_WORDS, MIXED_BELOW } from './class-words';
import { readScores } from './reading';
import { conceptPhrase, evaluationPrompts, EVALUATION_TEMPLATES } from './evaluation-set';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('similarity', () => {
  it('normalises rows and takes cosines', () => {
    const [x, y] = normalizeRows([v(3, 4)])[0];
    expect(x).toBeCloseTo(0.6, 6);
    expect(y).toBeCloseTo(0.8, 6);
    const m = cosineMatrix([v(1, 0), v(0, 2)], [v(1, 1), v(0, -1)]);
    expect(m[0][0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1][1]).toBeCloseTo(-1, 6);
    expect(meanCosine([v(1, 0)], [v(1, 0), v(0, 1)])).toBeCloseTo(0.5, 6);
  });

  it('mutual cosine leaves out each row with itself', () => {
    expect(meanMutualCosine([v(1, 0), v(0, 1)])).toBeCloseTo(0, 6);
    expect(meanMutualCosine([v(1, 0)])).toBe(1);
  });
});

describe('class suggestion', () => {
  const words = ['dog', 'cat', 'car', 'cup'];
  const text = [v(1, 0, 0), v(0, 1, 0), v(0, 0, 1), v(-1, 0, 0)];
  it('offers the best three and a coherent set is not mixed', () => {
    const s = classSuggestion([v(0.9, 0.3, 0), v(1, 0.2, 0.1)], text, words);
    expect(s.classes.map((c) => c.word)).toEqual(['dog', 'cat', 'car']);
    expect(s.mixed).toBe(false);
    expect(s.coherence).toBeGreaterThan(MIXED_BELOW);
  });

  it('photos of different subjects are mixed; one photo never is', () => {
    expect(classSuggestion([v(1, 0, 0), v(0, 0, 1)], text, words).mixed).toBe(true);
    expect(classSuggestion([v(1, 0, 0)], text, words)).toMatchObject({ coherence: 1, mixed: false });
  });

  it('the built-in list holds DreamBench classes and no duplicates', () => {
    expect(CLASS_WORDS).toEqual(expect.arrayContaining(['dog', 'cat', 'backpack', 'teapot', 'sneaker']));
    expect(new Set(CLASS_WORDS).size).toBe(CLASS_WORDS.length);
  });
});

describe('the reading', () => {
  const base = { clipI: 0.7, clipT: 0.3, dino: 0.4 };
  it('says what identity and editability do against the baseline', () => {
    expect(readScores({ clipI: 0.8, clipT: 0.3, dino: 0.55 }, base)).toBe('identity well above the class word; prompts still followed');
    expect(readScores({ clipI: 0.72, clipT: 0.27, dino: 0.43 }, base)).toBe('identity a little above the class word; prompts followed less than with the class word');
    expect(readScores({ clipI: 0.7, clipT: 0.3, dino: 0.4 }, base)).toBe('identity no better than the class word: the concept has not taken; prompts still followed');
    expect(readScores({ clipI: 0.9, clipT: 0.2, dino: 0.7 }, base)).toBe('overfit: prompt words ignored');
  });
});

describe('the evaluation set', () => {
  it('writes each template with the concept and with the class word', () => {
    const ti = evaluationPrompts('<my-dog>', 'dog', true);
    expect(ti).toHaveLength(EVALUATION_TEMPLATES.length);
    expect(ti[0]).toEqual({ prompt: 'a photo of a <my-dog> on the beach', classPrompt: 'a photo of a dog on the beach' });
    expect(evaluationPrompts('sks', 'dog', false)[1]).toEqual({ prompt: 'a photo of a red sks dog', classPrompt: 'a photo of a red dog' });
    expect(conceptPhrase('sks', '', false)).toBe('sks');
  });
});
