/**
 * An evaluation's shapes-world part: on the built-in model, a concept whose token is a sample
 * concept's is also drawn with the world's fidelity and edit prompts (and its class word alone,
 * the baseline), and scored by the world's analyzer against the sample's own training photos.
 */
import { BUILTIN_MODEL_ID } from '../model/sources/builtin';
import type { WorldEvaluation } from '../library/evaluation';
import { editability, fidelity, type ConceptQuality } from '../world/concept-quality';
import type { WantedAttributes } from '../world/metrics';
import { editPrompts, FIDELITY_PROMPT, fill } from '../world/quality-prompts';
import type { WorldImage } from '../world/render';
import { conceptPhotos, SAMPLE_CONCEPTS, type SampleConcept } from '../world/sample-concepts';

/** The sample concept an evaluation also scores with the analyzer: built-in model and a sample's token; else null. */
export function evaluationSample(modelId: string, token: string): SampleConcept | null {
  return modelId === BUILTIN_MODEL_ID ? (SAMPLE_CONCEPTS.find((s) => s.token === token) ?? null) : null;
}

export interface WorldPrompt {
  /** With the concept (`subject`: as the evaluation's own prompts name it). */
  prompt: string;
  /** With the class word: the baseline's. */
  classPrompt: string;
  /** null: the fidelity prompt (the concept alone). */
  wanted: WantedAttributes | null;
}

/** The fidelity prompt, then the sample's edit prompts. */
export function worldPrompts(sample: SampleConcept, subject: string, classWord: string): WorldPrompt[] {
  return [
    { prompt: fill(FIDELITY_PROMPT, subject), classPrompt: fill(FIDELITY_PROMPT, classWord), wanted: null },
    ...editPrompts(sample).map((e) => ({ prompt: fill(e.prompt, subject), classPrompt: fill(e.prompt, classWord), wanted: e.wanted })),
  ];
}

/** Fidelity (against the sample's training photos) and editability of `images[p]`, the images of `prompts[p]`. */
export function worldQuality(sample: SampleConcept, prompts: readonly WorldPrompt[], images: readonly (readonly WorldImage[])[]): ConceptQuality {
  const alone = images.filter((_, p) => prompts[p].wanted === null).flat();
  const edits = prompts.flatMap((p, i) => (p.wanted ? [{ images: images[i], wanted: p.wanted }] : []));
  return { fidelity: fidelity(alone, sample, conceptPhotos(sample)), editability: editability(edits) };
}

/** The analyzer's scores of `images`: each prompt's seeds in a row, the concept's and the baseline's (`baseline`) in prompt order. */
export function worldEvaluation(sample: SampleConcept, prompts: readonly WorldPrompt[], images: readonly { baseline: boolean; image: WorldImage }[], seeds: number): WorldEvaluation {
  const byPrompt = (baseline: boolean) => {
    const mine = images.filter((im) => im.baseline === baseline).map((im) => im.image);
    if (mine.length !== prompts.length * seeds) throw new RangeError(`worldEvaluation: ${mine.length} images for ${prompts.length} prompts × ${seeds} seeds`);
    return prompts.map((_, p) => mine.slice(p * seeds, (p + 1) * seeds));
  };
  return { sample: sample.id, concept: worldQuality(sample, prompts, byPrompt(false)), baseline: worldQuality(sample, prompts, byPrompt(true)) };
}
