/**
 * The fixed evaluation set: four prompt templates of DreamBench's kinds (recontextualisation,
 * property change, accessorisation, style), written with the concept and with its class word.
 */

export const EVALUATION_TEMPLATES: readonly { kind: 'recontextualisation' | 'property' | 'accessorisation' | 'style'; template: string }[] = [
  { kind: 'recontextualisation', template: 'a photo of a {} on the beach' },
  { kind: 'property', template: 'a photo of a red {}' },
  { kind: 'accessorisation', template: 'a photo of a {} wearing a hat' },
  { kind: 'style', template: 'a watercolor painting of a {}' },
];

export const EVALUATION_SEEDS: readonly number[] = [1, 2];

export interface EvaluationPrompt {
  /** With the concept (its token, and the class word after it for LoRA-only concepts). */
  prompt: string;
  /** With the class word alone: the baseline's prompt, and what CLIP-T compares every image to. */
  classPrompt: string;
}

/** How prompts name the concept: a textual inversion stands for the whole subject; a LoRA's token qualifies the class word. */
export function conceptPhrase(token: string, classWord: string, hasEmbedding: boolean): string {
  return hasEmbedding || classWord === '' ? token : `${token} ${classWord}`;
}

export function evaluationPrompts(token: string, classWord: string, hasEmbedding: boolean): EvaluationPrompt[] {
  const subject = conceptPhrase(token, classWord, hasEmbedding);
  return EVALUATION_TEMPLATES.map(({ template }) => ({ prompt: template.replace('{}', subject), classPrompt: template.replace('{}', classWord) }));
}
