/**
 * The prompt composer's form, in its own zustand store so it outlives the Generate section
 * (switching sections keeps every value) and gallery or PNG fills reach it from anywhere.
 */
import { create } from 'zustand';
import type { ModelInfo } from '../../engine/protocol';
import { TEXT_TO_IMAGE_DEFAULTS as D, type SamplerName } from '../../model/text-to-image-options';
import type { ComposerFill } from './composer-fill';
import { loadHistory, rememberPrompt, saveHistory } from './prompt-history';
import type { SeedMode } from './seed-plan';

export interface ComposerState {
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidanceScale: number;
  sampler: SamplerName;
  /** Pixels per side; 0: the model's native size. */
  size: number;
  batch: number;
  /** As typed; '' with a random seed. */
  seed: string;
  seedMode: SeedMode;
  /** This prompt's LoRA strengths by concept id (a concept without one generates at its stored strength). */
  strengths: Record<string, number>;
  /** The model whose recommended settings the form took. */
  modelId: string | null;
  /** What the last fill could not apply (null: no fill to tell about). */
  fillNotes: string[] | null;
  /** Prompts generated from, newest first. */
  history: string[];
}

export const useComposer = create<ComposerState>(() => ({
  prompt: '',
  negativePrompt: D.negativePrompt,
  steps: D.steps,
  guidanceScale: D.guidanceScale,
  sampler: D.sampler,
  size: 0,
  batch: D.batch,
  seed: '',
  seedMode: 'random',
  strengths: {},
  modelId: null,
  fillNotes: null,
  history: loadHistory(),
}));

export function setComposer(change: Partial<ComposerState>): void {
  useComposer.setState(change);
}

/** A newly loaded model's recommended settings, once per model (not on every visit to the section). */
export function adoptModelSettings(model: ModelInfo): void {
  if (useComposer.getState().modelId === model.id) return;
  const g = model.card.generation;
  useComposer.setState({ modelId: model.id, steps: g.steps, guidanceScale: g.guidanceScale, sampler: g.sampler, size: 0 });
}

/** Fills the form; a fixed seed where the fill has one, one image per generation; `source` names the file read. */
export function applyFill(fill: ComposerFill, source?: string): void {
  const { notes, strengths, seed, ...values } = fill;
  useComposer.setState((s) => ({
    ...values,
    strengths: { ...s.strengths, ...strengths },
    ...(seed !== undefined && { seed: String(seed), seedMode: 'fixed' as const }),
    batch: 1,
    fillNotes: source ? [`Settings read from ${source}.`, ...notes] : notes.length > 0 ? notes : null,
  }));
}

export function rememberInHistory(prompt: string): void {
  const history = rememberPrompt(useComposer.getState().history, prompt);
  useComposer.setState({ history });
  saveHistory(history);
}
