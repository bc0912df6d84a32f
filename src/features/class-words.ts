/**
 * The class word suggested from training photos: CLIP zero-shot over common subject classes, and
 * the check that the photos show one subject (their mean mutual CLIP-I).
 */
import type { ClassSuggestion } from './types';
import { cosineMatrix, mean, meanMutualCosine } from './similarity';

/** DreamBench's 30 subjects' classes, then the usual pets, objects, people and styles. */
export const CLASS_WORDS: readonly string[] = [
  // DreamBench
  'backpack', 'stuffed animal', 'bowl', 'can', 'candle', 'cat', 'clock', 'sneaker', 'dog', 'duck toy',
  'boot', 'glasses', 'toy', 'teapot', 'vase', 'cartoon', 'robot toy', 'monster toy',
  // pets and animals
  'puppy', 'kitten', 'rabbit', 'hamster', 'parrot', 'bird', 'horse', 'fish', 'turtle',
  // people
  'person', 'man', 'woman', 'child', 'baby', 'face',
  // objects
  'car', 'bicycle', 'mug', 'cup', 'bottle', 'chair', 'lamp', 'plush toy', 'figurine', 'doll', 'shoe',
  'hat', 'bag', 'watch', 'ring', 'necklace', 'phone', 'guitar', 'plant', 'flower', 'cake', 'house',
  'building', 'logo', 'shape',
  // styles
  'painting', 'drawing', 'sketch', 'illustration', 'anime', 'watercolor', 'pixel art', '3d render', 'photo',
];

export const CLASS_PROMPT = 'a photo of a {}';

/** Below this mean mutual CLIP-I, the photos look like several subjects (CLIP B/32: one subject's photos sit around 0.8–0.9, unrelated ones near 0.5). */
export const MIXED_BELOW = 0.7;

/** CLIP's logit scale: turns cosines into the zero-shot probabilities. */
const LOGIT_SCALE = 100;

export function classPrompt(word: string, template = CLASS_PROMPT): string {
  return template.replace('{}', word);
}

/**
 * Words ranked by their prompt's mean cosine with the photos, best first; each score is the
 * zero-shot probability of that mean cosine (softmax at CLIP's logit scale), so scores sum to 1.
 */
export function rankClasses(photoEmbeds: readonly Float32Array[], wordEmbeds: readonly Float32Array[], words: readonly string[]): { word: string; score: number }[] {
  if (wordEmbeds.length !== words.length) throw new RangeError(`${wordEmbeds.length} embeddings for ${words.length} words`);
  const cos = cosineMatrix(photoEmbeds, wordEmbeds);
  const meanCos = words.map((_, j) => mean(cos.map((row) => row[j])));
  const top = Math.max(...meanCos);
  const weights = meanCos.map((c) => Math.exp(LOGIT_SCALE * (c - top)));
  const total = weights.reduce((s, w) => s + w, 0);
  return words.map((word, j) => ({ word, score: weights[j] / total, cos: meanCos[j] }))
    .sort((a, b) => b.cos - a.cos)
    .map(({ word, score }) => ({ word, score }));
}

/** The top `count` classes, and whether the photos look like several subjects. */
export function classSuggestion(photoEmbeds: readonly Float32Array[], wordEmbeds: readonly Float32Array[], words: readonly string[] = CLASS_WORDS, count = 3): ClassSuggestion {
  const coherence = meanMutualCosine(photoEmbeds);
  return { classes: rankClasses(photoEmbeds, wordEmbeds, words).slice(0, count), coherence, mixed: photoEmbeds.length > 1 && coherence < MIXED_BELOW };
}
