/**
 * What a training run is asked to do: the methods, the LoRA targets, the one table of defaults
 * and the one validator. No tfjs: the page (the New concept form), the run store and the trainer
 * all read their defaults and checks from here.
 */
import { StudioError } from '../common/errors';
import { tokenProblem } from '../model/prompt-tokens';
import { CONCEPT_KINDS, type ConceptKind } from './templates';

/**
 * 'dreambooth': a LoRA trained with prior preservation (diffusers' train_dreambooth_lora.py).
 * 'pplus': P+ / Extended Textual Inversion (Voynov et al. 2023): one token with its own vector
 * at each cross-attention layer (16 for SD 1.x, `model/cross-attention.ts`), TI's settings.
 * 'perfusion': key-locked rank-1 editing (Tewel et al. 2023): the token's vector and, per attn2, a
 * gated rank-1 edit of K (locked to the class word) and V (learned), `perfusion-concept.ts`.
 */
export const TRAINING_METHODS = ['ti', 'lora', 'both', 'dreambooth', 'pplus', 'perfusion'] as const;
export type TrainingMethod = (typeof TRAINING_METHODS)[number];

/** Whether a method trains token vectors (TI's, P+'s one per layer, Perfusion's): 'ti', 'both', 'pplus', 'perfusion'. */
export function trainsVectors(method: TrainingMethod): boolean {
  return method === 'ti' || method === 'both' || method === 'pplus' || method === 'perfusion';
}

/** Whether a method trains a UNet LoRA: 'lora', 'both', 'dreambooth'. */
export function trainsLora(method: TrainingMethod): boolean {
  return method === 'lora' || method === 'both' || method === 'dreambooth';
}

/**
 * How a DreamBooth run names its subject: 'added' prompts with the concept's own token
 * (`<my-dog> dog`, as LoRA does); 'rare' with a short rare word the trainer picks from the
 * model's vocabulary (`rare-token.ts`, DreamBooth's "sks"), which becomes the run's token.
 */
export const IDENTIFIERS = ['added', 'rare'] as const;
export type Identifier = (typeof IDENTIFIERS)[number];

export const LORA_TARGETS = ['to_q', 'to_k', 'to_v', 'to_out.0'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];
/** The usual cross-attention LoRA: keys and values of the text states. */
export const DEFAULT_LORA_TARGETS: readonly LoraTarget[] = ['to_k', 'to_v'];

export interface TrainerConfig {
  method: TrainingMethod;
  /** The concept's placeholder token, e.g. `<my-cat>`. */
  token: string;
  /** What the concept is (`cat`): initialises TI vectors; follows the token in LoRA-only prompts. */
  classWord: string;
  kind: ConceptKind;
  /** Training prompts (`{}` = the concept) in place of the kind's, e.g. a model's own caption style. */
  templates?: string[];
  numVectors: number;
  rank: number;
  alpha: number;
  targets: LoraTarget[];
  steps: number;
  /** Peak rate of the TI vectors. */
  tiLearningRate: number;
  /** Peak rate of the LoRA weights. */
  loraLearningRate: number;
  /** LoRA on the text encoder's self-attention q/k/v/out projections too (diffusers' `--train_text_encoder`). */
  textEncoderLora: boolean;
  /** Peak rate of the text encoder's LoRA (kohya's `--text_encoder_lr`). */
  textEncoderLearningRate: number;
  /** Linear warmup: step s (0-based) uses rate · min(1, (s + 1) / warmupSteps). */
  warmupSteps: number;
  weightDecay: number;
  batchSize: number;
  /** Image side in pixels (square). */
  resolution: number;
  seed: number;
  /** Recompute UNet blocks in the backward pass instead of keeping their activations. */
  gradientCheckpointing: boolean;
  /** Clip the global L2 norm of all trained gradients to this (torch's `clip_grad_norm_`); null: no clipping. */
  maxGradNorm: number | null;
  /** DreamBooth: class images the frozen model draws once from "a <classWord>" (prior preservation). */
  classImages: number;
  /** DreamBooth: λ in loss = MSE(instance) + λ · MSE(class) (diffusers' `--prior_loss_weight`). */
  priorLossWeight: number;
  /** DreamBooth: the subject's identifier in prompts. */
  identifier: Identifier;
  /** DreamBooth: DDIM steps per class image (guidance 7.5, seed `seed + i` for image i). */
  classImageSteps: number;
}

export type TrainerOptions = Pick<TrainerConfig, 'method' | 'token' | 'classWord' | 'steps' | 'resolution'> & Partial<TrainerConfig>;

/**
 * The value of every option a request may leave out; `alpha` defaults to the rank and
 * `textEncoderLearningRate` to half `loraLearningRate`: diffusers' train_dreambooth_lora.py gives
 * the text encoder the UNet's rate, kohya's trainers take a separate `--text_encoder_lr` that
 * their usual settings put at half the UNet's (1e-4 and 5e-5): the text encoder overfits sooner.
 */
export const TRAINER_DEFAULTS = {
  kind: 'object',
  numVectors: 1,
  rank: 4,
  targets: DEFAULT_LORA_TARGETS,
  tiLearningRate: 5e-3,
  loraLearningRate: 1e-4,
  textEncoderLora: false,
  warmupSteps: 0,
  weightDecay: 1e-2,
  batchSize: 1,
  seed: 0,
  gradientCheckpointing: false,
  classImages: 50,
  priorLossWeight: 1,
  identifier: 'added',
  classImageSteps: 25,
} as const satisfies Partial<Record<keyof TrainerConfig, unknown>>;

/**
 * The clipping a run gets unless told: diffusers' LoRA scripts (train_text_to_image_lora.py,
 * train_dreambooth_lora.py) clip at `max_grad_norm=1.0`, so a run that trains a LoRA ('lora',
 * 'both', 'dreambooth') does, over all its trained tensors; its textual_inversion.py does not clip, nor does TI alone here.
 */
export function defaultMaxGradNorm(method: TrainingMethod): number | null {
  return trainsLora(method) ? 1 : null;
}

/** The peak rates, which a diverged run may resume with lowered. */
export type LearningRateOptions = Partial<Pick<TrainerConfig, 'tiLearningRate' | 'loraLearningRate' | 'textEncoderLearningRate'>>;

/** A tenth of each rate the config trains with (three significant digits): what a diverged run is offered to go on at. */
export function tenthOfRates(c: TrainerConfig): LearningRateOptions {
  const tenth = (rate: number) => Number((rate / 10).toPrecision(3));
  return {
    ...(trainsVectors(c.method) && { tiLearningRate: tenth(c.tiLearningRate) }),
    ...(trainsLora(c.method) && { loraLearningRate: tenth(c.loraLearningRate) }),
    ...(c.textEncoderLora && { textEncoderLearningRate: tenth(c.textEncoderLearningRate) }),
  };
}

/** Bounds the New concept form offers. */
export const TRAINER_LIMITS = { maxSteps: 10_000, maxVectors: 16, maxRank: 128, maxClassImages: 1000, maxClassImageSteps: 200 } as const;

/**
 * The full config: defaults filled in, every value checked (a bad one fails naming its key; a bad
 * token is `TokenInvalid`, prompt-tokens.ts). Whether the model already knows the token is the
 * engine's to check: it has the vocabulary.
 */
export function resolveTrainerConfig(options: TrainerOptions): TrainerConfig {
  const d = TRAINER_DEFAULTS;
  const rank = options.rank ?? d.rank;
  const loraLearningRate = options.loraLearningRate ?? d.loraLearningRate;
  const c: TrainerConfig = {
    method: options.method,
    token: options.token,
    classWord: options.classWord,
    kind: options.kind ?? d.kind,
    ...(options.templates ? { templates: [...options.templates] } : {}),
    numVectors: options.numVectors ?? d.numVectors,
    rank,
    alpha: options.alpha ?? rank,
    // a list is copied; anything else is kept as is for the check below to name (a string is not split)
    targets: options.targets === undefined ? [...d.targets] : Array.isArray(options.targets) ? [...options.targets] : options.targets,
    steps: options.steps,
    tiLearningRate: options.tiLearningRate ?? d.tiLearningRate,
    loraLearningRate,
    textEncoderLora: options.textEncoderLora ?? d.textEncoderLora,
    textEncoderLearningRate: options.textEncoderLearningRate ?? loraLearningRate / 2,
    warmupSteps: options.warmupSteps ?? d.warmupSteps,
    weightDecay: options.weightDecay ?? d.weightDecay,
    batchSize: options.batchSize ?? d.batchSize,
    resolution: options.resolution,
    seed: options.seed ?? d.seed,
    gradientCheckpointing: options.gradientCheckpointing ?? d.gradientCheckpointing,
    maxGradNorm: options.maxGradNorm === undefined ? defaultMaxGradNorm(options.method) : options.maxGradNorm,
    classImages: options.classImages ?? d.classImages,
    priorLossWeight: options.priorLossWeight ?? d.priorLossWeight,
    identifier: options.identifier ?? d.identifier,
    classImageSteps: options.classImageSteps ?? d.classImageSteps,
  };
  const fail = (key: keyof TrainerConfig, wanted: string) => {
    const value = c[key];
    throw new Error(value === undefined ? `training option ${key} is missing.` : `training option ${key} = ${JSON.stringify(value)} must be ${wanted}.`);
  };
  const positiveInt = (key: keyof TrainerConfig) => (Number.isInteger(c[key]) && (c[key] as number) >= 1) || fail(key, 'a positive integer');
  if (!TRAINING_METHODS.includes(c.method)) fail('method', `one of ${TRAINING_METHODS.join(', ')}`);
  if (!CONCEPT_KINDS.includes(c.kind)) fail('kind', `one of ${CONCEPT_KINDS.join(', ')}`);
  if (c.token === undefined) fail('token', 'a token');
  const problem = tokenProblem(c.token);
  if (problem !== null) throw new StudioError('TokenInvalid', `training option token: ${problem}.`);
  if (typeof c.classWord !== 'string' || c.classWord.trim() === '') fail('classWord', 'a word');
  if (c.templates !== undefined && (!Array.isArray(c.templates) || c.templates.length === 0 || c.templates.some((t) => typeof t !== 'string' || !t.includes('{}')))) {
    fail('templates', "a list of prompts, each with {} where the concept goes");
  }
  (['numVectors', 'rank', 'steps', 'batchSize', 'resolution', 'classImages', 'classImageSteps'] as const).forEach(positiveInt);
  if (c.resolution % 8 !== 0) fail('resolution', 'a multiple of 8');
  if (!(c.alpha > 0)) fail('alpha', 'positive');
  if (!Array.isArray(c.targets) || c.targets.length === 0 || c.targets.some((t) => !LORA_TARGETS.includes(t))) fail('targets', `some of ${LORA_TARGETS.join(', ')}`);
  for (const key of ['tiLearningRate', 'loraLearningRate', 'textEncoderLearningRate'] as const) if (!(c[key] > 0 && Number.isFinite(c[key]))) fail(key, 'a positive number');
  if (!(Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0)) fail('warmupSteps', 'an integer ≥ 0');
  if (!(c.weightDecay >= 0)) fail('weightDecay', '≥ 0');
  if (!Number.isInteger(c.seed)) fail('seed', 'an integer');
  if (typeof c.gradientCheckpointing !== 'boolean') fail('gradientCheckpointing', 'true or false');
  if (typeof c.textEncoderLora !== 'boolean') fail('textEncoderLora', 'true or false');
  if (c.maxGradNorm !== null && !(c.maxGradNorm > 0 && Number.isFinite(c.maxGradNorm))) fail('maxGradNorm', 'a positive number, or null for no clipping');
  if (c.textEncoderLora && !trainsLora(c.method)) fail('textEncoderLora', `false with method '${c.method}' (it adapts a LoRA: method 'lora', 'both' or 'dreambooth')`);
  if (c.method === 'pplus' && c.numVectors !== 1) fail('numVectors', "1 with method 'pplus' (one vector per cross-attention layer)");
  if (c.method === 'perfusion' && c.numVectors !== 1) fail('numVectors', "1 with method 'perfusion' (its edit reads one token's encoding)");
  if (!(c.priorLossWeight >= 0 && Number.isFinite(c.priorLossWeight))) fail('priorLossWeight', 'a number ≥ 0');
  if (!IDENTIFIERS.includes(c.identifier)) fail('identifier', `one of ${IDENTIFIERS.join(', ')}`);
  if (c.identifier === 'rare' && c.method !== 'dreambooth') fail('identifier', "'added' unless the method is 'dreambooth'");
  return c;
}

/** Every setting a full config (as a checkpoint stores it) holds; only `templates` may be left out. */
const FULL_CONFIG_KEYS = [
  'method', 'token', 'classWord', 'kind', 'numVectors', 'rank', 'alpha', 'targets', 'steps', 'tiLearningRate', 'loraLearningRate',
  'textEncoderLora', 'textEncoderLearningRate', 'warmupSteps', 'weightDecay', 'batchSize', 'resolution', 'seed', 'gradientCheckpointing', 'maxGradNorm',
  'classImages', 'priorLossWeight', 'identifier', 'classImageSteps',
] as const satisfies readonly (keyof TrainerConfig)[];
// a new TrainerConfig key fails to compile here until it is listed above
const _everyKey: Exclude<keyof TrainerConfig, (typeof FULL_CONFIG_KEYS)[number] | 'templates'> extends never ? true : never = true;
void _everyKey;

/** A full config read back (a checkpoint's): every key present, then the one validator; a missing key fails naming it. */
export function readTrainerConfig(raw: unknown): TrainerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('training options are not an object.');
  const r = raw as Record<string, unknown>;
  for (const key of FULL_CONFIG_KEYS) if (r[key] === undefined) throw new Error(`training option ${key} is missing.`);
  return resolveTrainerConfig(r as unknown as TrainerConfig);
}
