/**
 * The studio's training policy, the one place it is chosen: what a run does when its request
 * leaves a setting out. Activation checkpointing on (the trainer's own default is off); a
 * checkpoint every tenth of the run, 5 to 25 steps apart; previews about 8 times a run (at
 * least 5 steps apart) and at the end, 15 DDIM steps from seed 0, at the training resolution.
 */
import { StudioError } from '../common/errors';
import type { TrainerOptions } from '../train/config';
import type { ConceptKind } from '../train/templates';
import type { ModelInfo, TrainingPreviewOptions, TrainRequest } from './protocol';

/** The request's options with the studio's defaults for what they leave out. */
export function studioTrainerOptions(options: TrainerOptions): TrainerOptions {
  return { ...options, gradientCheckpointing: options.gradientCheckpointing ?? true };
}

/** Steps between checkpoints: a tenth of the run, 5 to 25. */
export function checkpointCadence(steps: number): number {
  return Math.min(25, Math.max(5, Math.ceil(steps / 10)));
}

export const PREVIEWS_PER_RUN = 8;
const MIN_STEPS_BETWEEN_PREVIEWS = 5;

/** About 8 previews a run, 5 steps apart at the least. */
export function previewCadence(steps: number): TrainingPreviewOptions {
  return { every: Math.max(MIN_STEPS_BETWEEN_PREVIEWS, Math.ceil(steps / PREVIEWS_PER_RUN)), steps: 15, seed: 0 };
}

/** The steps after `after` a run of `steps` steps previews at, every `every` steps and at its end. */
export function previewSteps(steps: number, every: number, after = 0): number[] {
  const out: number[] = [];
  for (let s = (Math.floor(after / every) + 1) * every; s < steps; s += every) out.push(s);
  if (steps > after) out.push(steps);
  return out;
}

export interface TrainingCadence {
  checkpointEvery: number;
  preview: TrainingPreviewOptions | null;
}

/** The request's cadences, or the studio's for a run of `steps` steps; a bad one is an InvalidRequest. */
export function trainingCadence(request: Pick<TrainRequest, 'checkpointEvery' | 'preview'>, steps: number): TrainingCadence {
  const checkpointEvery = request.checkpointEvery ?? checkpointCadence(steps);
  const preview = request.preview === undefined ? previewCadence(steps) : request.preview;
  const positive = (what: string, n: number) => {
    if (!(Number.isInteger(n) && n >= 1)) throw new StudioError('InvalidRequest', `${what} = ${n} must be a positive integer.`);
  };
  positive('checkpointEvery', checkpointEvery);
  if (preview) positive('preview.every', preview.every);
  return { checkpointEvery, preview };
}

/**
 * What a model recommends a new concept trains with (its card's training defaults): resolution,
 * steps, rates, prompt templates (for concepts of things), activation checkpointing. The page's
 * New concept form and `studio train` both start from these.
 */
export function modelTrainingDefaults(info: Pick<ModelInfo, 'card' | 'imageSize'>, kind: ConceptKind = 'object'): Partial<TrainerOptions> & { resolution: number } {
  const t = info.card.training ?? {};
  const out: Partial<TrainerOptions> & { resolution: number } = { resolution: t.resolution ?? info.imageSize };
  if (t.steps !== undefined) out.steps = t.steps;
  if (t.tiLearningRate !== undefined) out.tiLearningRate = t.tiLearningRate;
  if (t.loraLearningRate !== undefined) out.loraLearningRate = t.loraLearningRate;
  if (t.gradientCheckpointing !== undefined) out.gradientCheckpointing = t.gradientCheckpointing;
  if (t.templates && kind === 'object') out.templates = [...t.templates];
  return out;
}
