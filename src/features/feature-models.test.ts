import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureModels, openSessions } from './feature-models';
import { refusedFetchCount } from './transformers-runtime';
import { cosineMatrix, normalizeRows } from './similarity';
import { evaluationScores } from './scores';
import { rankClasses } from './class-words';
import { CLIP_TINY, DINO_TINY, featureGolden, folderFiles, goldenImages } from '../test/feature-fixtures';

const EMBED_TOL = 1e-4;
const COS_TOL = 1e-5;

function expectClose(actual: readonly ArrayLike<number>[], expected: readonly number[][], tol: number) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i].length);
    for (let j = 0; j < row.length; j++) expect(Math.abs(row[j] - expected[i][j]), `[${i}][${j}]`).toBeLessThan(tol);
  });
}

describe('feature models on the fixture (onnxruntime-node)', () => {
  const golden = featureGolden();
  const images = goldenImages();
  const fetches: string[] = [];
  const realFetch = globalThis.fetch;
  let models: FeatureModels;
  let clipImages: Float32Array[], clipTexts: Float32Array[], dino: Float32Array[];

  beforeAll(async () => {
    globalThis.fetch = (async (input: unknown) => {
      fetches.push(String(input));
      throw new Error('no network in this test');
    }) as typeof fetch;
    models = new FeatureModels({ clip: folderFiles(CLIP_TINY), dino: folderFiles(DINO_TINY) });
    clipImages = await models.clipImages(images);
    clipTexts = await models.clipTexts(golden.clip.prompts);
    dino = await models.dinoImages(images);
  });

  afterAll(() => {
    globalThis.fetch = realFetch;
  });

  it('CLIP image and text embeddings equal the goldens', () => {
    expectClose(clipImages, golden.clip.image_embeds, EMBED_TOL);
    expectClose(clipTexts, golden.clip.text_embeds, EMBED_TOL);
  });

  it('CLIP-I, CLIP-T (image × text) and text × text cosines equal the goldens', () => {
    expectClose(cosineMatrix(clipImages, clipImages), golden.clip.cosine_image_image, COS_TOL);
    expectClose(cosineMatrix(clipImages, clipTexts), golden.clip.cosine_image_text, COS_TOL);
    expectClose(cosineMatrix(clipTexts, clipTexts), golden.clip.cosine_text_text, COS_TOL);
  });

  it('DINO CLS embeddings and their cosines equal the goldens', () => {
    expectClose(dino, golden.dinov2.pooler_output, EMBED_TOL);
    expectClose(cosineMatrix(dino, dino), golden.dinov2.cosine_image_image_cls, COS_TOL);
  });

  it('the scores are the means of the golden cosines', () => {
    // red square and blue circle as "generated" with prompts 0 and 1, the noise image as the one photo
    const scores = evaluationScores(
      [0, 1].map((i) => ({ clip: clipImages[i], dino: dino[i], prompt: clipTexts[i] })),
      { clip: [clipImages[2]], dino: [dino[2]] },
    );
    const g = golden.clip;
    expect(scores.clipI).toBeCloseTo((g.cosine_image_image[0][2] + g.cosine_image_image[1][2]) / 2, 5);
    expect(scores.clipT).toBeCloseTo((g.cosine_image_text[0][0] + g.cosine_image_text[1][1]) / 2, 5);
    expect(scores.dino).toBeCloseTo((golden.dinov2.cosine_image_image_cls[0][2] + golden.dinov2.cosine_image_image_cls[1][2]) / 2, 5);
  });

  it('the zero-shot ranking equals the ranking of the golden image × text cosines', () => {
    const words = golden.clip.prompts;
    const goldenRanking = (photos: number[]) =>
      words.map((w, j) => ({ w, c: photos.reduce((s, i) => s + golden.clip.cosine_image_text[i][j], 0) })).sort((a, b) => b.c - a.c).map((x) => x.w);
    for (const photos of [[0], [1], [2], [0, 1, 2]]) {
      const ranked = rankClasses(photos.map((i) => clipImages[i]), clipTexts, words);
      expect(ranked.map((r) => r.word), `photos ${photos}`).toEqual(goldenRanking(photos));
      expect(ranked.reduce((s, r) => s + r.score, 0)).toBeCloseTo(1, 6);
    }
  });

  it('embeddings come back unnormalised, as the models give them', () => {
    expect(normalizeRows(clipImages).every((r, i) => Math.abs(r[0] - clipImages[i][0]) > 1e-3)).toBe(true);
  });

  it('loading from folders made no network request, and release closes every session', async () => {
    expect(openSessions()).toBe(3);
    await models.release();
    expect(openSessions()).toBe(0);
    expect(fetches).toEqual([]);
    expect(refusedFetchCount()).toBe(0);
  });
});
