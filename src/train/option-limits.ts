/**
 * The bounds a training request is held to before anything starts, as one plain sentence per
 * problem: the page shows it beside a disabled Train button, the engine refuses a new run with it
 * (InvalidRequest). `resolveTrainerConfig` still checks the rest (types, tokens, targets).
 */
import { TRAINER_DEFAULTS as D, TRAINER_LIMITS, trainsLora, trainsVectors, type TrainerOptions } from './config';

/** The smallest resolution taken: one latent pixel (the VAE's factor 8; tiny test models train at 16–32 px). Too large for the GPU is the size check's (`size-cost.ts`). */
export const MIN_RESOLUTION = 8;

const count = (n: number) => n.toLocaleString('en-US');

function wholeIn(label: string, value: number, min: number, max: number): string | null {
  if (Number.isInteger(value) && value >= min && value <= max) return null;
  return `${label} must be a whole number from ${count(min)} to ${count(max)}; it is ${Number.isNaN(value) ? 'empty' : String(value)}.`;
}

function positiveRate(label: string, value: number): string | null {
  return value > 0 && Number.isFinite(value) ? null : `${label} must be a number above 0; it is ${Number.isNaN(value) ? 'empty' : String(value)}.`;
}

/** Every out-of-range number in the options (only the settings its method uses), in form order. */
export function trainerOptionProblems(o: TrainerOptions): string[] {
  const ti = trainsVectors(o.method);
  const lora = trainsLora(o.method);
  const dreambooth = o.method === 'dreambooth';
  const priorWeight = o.priorLossWeight ?? D.priorLossWeight;
  const rank = o.rank ?? D.rank;
  const loraRate = o.loraLearningRate ?? D.loraLearningRate;
  const problems = [
    wholeIn('Steps', o.steps, 1, TRAINER_LIMITS.maxSteps),
    Number.isInteger(o.resolution) && o.resolution >= MIN_RESOLUTION && o.resolution % 8 === 0
      ? null
      : `Resolution must be a multiple of 8 from ${MIN_RESOLUTION} pixels; it is ${Number.isNaN(o.resolution) ? 'empty' : String(o.resolution)}.`,
    ti && o.method !== 'pplus' ? wholeIn('Vectors per token', o.numVectors ?? D.numVectors, 1, TRAINER_LIMITS.maxVectors) : null,
    ti ? positiveRate('Token learning rate', o.tiLearningRate ?? D.tiLearningRate) : null,
    lora ? wholeIn('LoRA rank', rank, 1, TRAINER_LIMITS.maxRank) : null,
    lora && !((o.alpha ?? rank) > 0) ? `LoRA alpha must be above 0; it is ${String(o.alpha)}.` : null,
    lora ? positiveRate('LoRA learning rate', loraRate) : null,
    lora && o.textEncoderLora ? positiveRate('Text encoder learning rate', o.textEncoderLearningRate ?? loraRate / 2) : null,
    dreambooth ? wholeIn('Class images', o.classImages ?? D.classImages, 1, TRAINER_LIMITS.maxClassImages) : null,
    dreambooth ? wholeIn('Class image steps', o.classImageSteps ?? D.classImageSteps, 1, TRAINER_LIMITS.maxClassImageSteps) : null,
    dreambooth && !(priorWeight >= 0 && Number.isFinite(priorWeight)) ? `Prior loss weight must be a number from 0; it is ${Number.isNaN(priorWeight) ? 'empty' : String(priorWeight)}.` : null,
    wholeIn('Warmup steps', o.warmupSteps ?? D.warmupSteps, 0, Number.isInteger(o.steps) && o.steps >= 1 ? o.steps : TRAINER_LIMITS.maxSteps),
    Number.isSafeInteger(o.seed ?? D.seed) && (o.seed ?? D.seed) >= 0 ? null : `Seed must be a whole number from 0; it is ${String(o.seed)}.`,
  ];
  return problems.filter((p): p is string => p !== null);
}
