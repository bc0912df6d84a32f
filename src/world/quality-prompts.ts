/**
 * What a sample concept's quality is measured with: the prompts that test fidelity (the concept
 * alone), editability (the concept with background / position / size words) and composition (two
 * concepts in one prompt), written in the shapes world's caption grammar. `{}` is the concept:
 * its token for a trained concept, its class word for the baseline.
 */
import type { SampleConcept } from './sample-concepts';
import { COLOR_NAMES, COLORS, colorDistance, type ColorName } from './palette';
import type { WantedAttributes } from './metrics';

export const FIDELITY_PROMPT = 'a photo of a {}';

export interface EditPrompt {
  prompt: string;
  wanted: WantedAttributes;
}

/** Backgrounds tried first in edits (the example is yellow). */
const EDIT_BACKGROUNDS: readonly ColorName[] = ['yellow', 'black', 'green', 'pink', 'purple', 'orange', 'blue', 'white', 'red', 'gray'];

/** Training colours that are not the concept's background and stand ≥ 100 from all its colours, so the object still shows. */
export function editBackgrounds(concept: SampleConcept): ColorName[] {
  const ok = (name: ColorName) => colorDistance(COLORS[name], concept.background) >= 100 && concept.colors.every((c) => colorDistance(COLORS[name], c) >= 100);
  return EDIT_BACKGROUNDS.filter(ok).filter((n) => COLOR_NAMES.includes(n));
}

export function editPrompts(concept: SampleConcept): EditPrompt[] {
  const [bg1, bg2] = editBackgrounds(concept);
  return [
    { prompt: `a {} on the left on a ${bg1} background`, wanted: { position: 'left', background: bg1 } },
    { prompt: `a small {} at the top, ${bg2} background`, wanted: { size: 'small', position: 'top', background: bg2 } },
  ];
}

/** Two concepts in one prompt: the first drawn on the left, the second on the right (world.md's "A and B"). */
export const COMPOSITION_PROMPT = 'a {a} and a {b}';

export function fill(template: string, word: string): string {
  return template.replace('{}', word);
}
