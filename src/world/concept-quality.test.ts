/**
 * The sample concepts' quality scores on rendered shapes-world images: a concept's own canonical
 * image scores as a perfect copy, jittered photos score the numbers the benchmark's scorer gave
 * before it moved here, edits score per attribute, and composition tells the halves apart.
 */
import { describe, expect, it } from 'vitest';
import { composition, editability, fidelity } from './concept-quality';
import { COLORS } from './palette';
import { editBackgrounds, editPrompts, FIDELITY_PROMPT, fill } from './quality-prompts';
import { renderScene } from './render';
import { canonicalImage, conceptPhotos, sampleConcept } from './sample-concepts';

const teal = sampleConcept('teal-heart')!;
const striped = sampleConcept('striped-ball')!;
const arrow = sampleConcept('brown-arrow')!;

describe('fidelity', () => {
  it("a concept's canonical image against itself: mask IoU 1, colour and background distance 0, a copy of the photo", () => {
    expect(fidelity([canonicalImage(teal)], teal, [canonicalImage(teal)])).toEqual({ fgColorDist: 0, maskIou: 1, nearestPhotoL1: 0, bgDist: 0 });
    const two = fidelity([canonicalImage(striped)], striped, [canonicalImage(striped)]);
    expect(two).toMatchObject({ maskIou: 1, nearestPhotoL1: 0, bgDist: 0 });
    expect(two.twoColorBalance).toBeCloseTo(0.8305084745762712, 12); // stripes: red and white both well present
  });

  it('jittered photos (seed 7) against the training photos: the numbers the benchmark scored before the move', () => {
    const score = (c: typeof teal) => fidelity(conceptPhotos(c, 3, 7), c, conceptPhotos(c));
    const t = score(teal);
    expect(t.fgColorDist).toBe(0);
    expect(t.maskIou).toBeCloseTo(0.8544825861480034, 12);
    expect(t.nearestPhotoL1).toBeCloseTo(2.4593370225694446, 12);
    expect(t.bgDist).toBe(0);
    const s = score(striped);
    expect(s.fgColorDist).toBeCloseTo(21.891074841333637, 10);
    expect(s.maskIou).toBeCloseTo(0.8961769675504309, 12);
    expect(s.twoColorBalance).toBeCloseTo(0.8491470332909373, 12);
  });
});

describe('edit prompts and editability', () => {
  it('writes the edits in the caption grammar with backgrounds the concept stands out on', () => {
    expect(fill(FIDELITY_PROMPT, teal.token)).toBe('a photo of a <teal-heart>');
    expect(editBackgrounds(teal).slice(0, 2)).toEqual(['yellow', 'black']);
    expect(editPrompts(arrow).map((e) => fill(e.prompt, 'triangle'))).toEqual(['a triangle on the left on a black background', 'a small triangle at the top, green background']);
  });

  it('a rendered teal heart on the left on yellow meets the first edit; a large one at the top on black misses only the size', () => {
    const [left, small] = editPrompts(teal);
    const onLeft = renderScene({ background: COLORS.yellow, objects: [{ shape: 'heart', cx: 20, cy: 32, r: 10, color: teal.colors[0] }] });
    const largeTop = renderScene({ background: COLORS.black, objects: [{ shape: 'heart', cx: 32, cy: 18, r: 17, color: teal.colors[0] }] });
    expect(editability([{ images: [onLeft], wanted: left.wanted }])).toEqual({ position: 1, background: 1 });
    expect(editability([{ images: [largeTop], wanted: small.wanted }])).toEqual({ size: 0, position: 1, background: 1 });
    expect(editability([{ images: [onLeft], wanted: left.wanted }, { images: [largeTop, onLeft], wanted: small.wanted }])).toEqual({ position: 2 / 3, background: 2 / 3, size: 1 / 2 }); // the small left heart meets the second edit's size only
  });
});

describe('composition', () => {
  it('counts the halves in their concept colours: 1 in the asked order, 0 swapped', () => {
    const both = renderScene({ background: COLORS.white, objects: [{ shape: 'heart', cx: 16, cy: 32, r: 10, color: teal.colors[0] }, { shape: 'arrow', cx: 48, cy: 32, r: 10, color: arrow.colors[0] }] });
    expect(composition([both], teal, arrow)).toBe(1);
    expect(composition([both], arrow, teal)).toBe(0);
  });
});
