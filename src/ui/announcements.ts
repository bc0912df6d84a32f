/**
 * What the page's one polite live region says when the studio's state changes: a finished
 * generation, and a training run's start, quarter marks, pause, end and failure. Pure: from the
 * state before and after a change, so screen readers hear each event once.
 */
import type { GenerationStatus, ModelLoad, TrainingStatus } from './store';
import type { ModelInfo } from '../engine/protocol';

export interface Announced {
  generation: GenerationStatus;
  training: TrainingStatus;
  model: ModelInfo | null;
  modelLoad: ModelLoad;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The quarter (0–4) of the run a step is in. */
const quarter = (step: number, steps: number) => (steps > 0 ? Math.floor((4 * step) / steps) : 0);

export function announcement(before: Announced, after: Announced): string | null {
  const g = after.generation;
  if (g !== before.generation) {
    if (g.state === 'done' && (before.generation.state !== 'done' || before.generation.result !== g.result)) return `Generated ${plural(g.result.images.length, 'image')}, seed ${g.result.seed}.`;
    if (g.state === 'failed' && before.generation.state !== 'failed') return `Generation failed: ${g.error.message}`;
  }
  const t = after.training;
  const was = before.training;
  if (t !== was) {
    if (t.state === 'running' && was.state !== 'running') return `Training ${t.run.options.token} started: ${plural(t.run.steps, 'step')}.`;
    if (t.state === 'running' && was.state === 'running' && t.progress?.training) {
      const { step, steps } = t.progress.training;
      const previous = was.progress?.training?.step ?? 0;
      if (quarter(step, steps) > quarter(previous, steps) && step < steps) return `Training: step ${step} of ${steps}.`;
    }
    if (t.state === 'paused' && was.state !== 'paused') return `Training paused at step ${t.result.step}.`;
    if (t.state === 'done' && was.state !== 'done') return `Training done: ${t.run.options.token} is in the library.`;
    if (t.state === 'failed' && was.state !== 'failed') return `Training stopped: ${t.error.message}`;
  }
  if (after.model !== before.model && after.model && after.model.id !== before.model?.id) return `${after.model.card.title} is loaded.`;
  if (after.modelLoad !== before.modelLoad && after.modelLoad.state === 'failed') return `Could not load ${after.modelLoad.label}.`;
  return null;
}
