/**
 * Quick / Standard / Best: the New concept form's presets per method, from the trainers people
 * already use, scaled for the loaded model where its card recommends steps or rates
 * (`modelTrainingDefaults`). Standard is what a new concept starts from.
 */
import { TRAINER_DEFAULTS as D, TRAINER_LIMITS, type TrainerConfig, type TrainerOptions, type TrainingMethod } from '../train/config';
import type { ModelInfo } from './protocol';
import { modelTrainingDefaults } from './training-policy';

export const PRESETS = ['quick', 'standard', 'best'] as const;
export type PresetName = (typeof PRESETS)[number];

export const PRESET_LABELS: Record<PresetName, string> = { quick: 'Quick', standard: 'Standard', best: 'Best' };

/** The settings a preset sets; the rest of the form is left as it is. */
export type PresetSettings = Pick<TrainerConfig, 'steps'> &
  Partial<Pick<TrainerConfig, 'numVectors' | 'tiLearningRate' | 'rank' | 'loraLearningRate' | 'textEncoderLora' | 'textEncoderLearningRate' | 'classImages'>>;

/** For SD 1.x at 512 px. */
const TABLE: Record<TrainingMethod, Record<PresetName, PresetSettings>> = {
  ti: {
    // A1111's Train tab: embedding learning rate 0.005, one vector; a short first try.
    quick: { steps: 500, numVectors: 1, tiLearningRate: 5e-3 },
    // A1111's Train tab defaults (0.005, 1 vector per token) for 1500 steps, between its wiki's usual 1000 and 3000.
    standard: { steps: 1500, numVectors: 1, tiLearningRate: 5e-3 },
    // diffusers textual_inversion.py README: 3000 steps at 5e-4 (batch scaling, --scale_lr, off); 2 vectors (A1111's wiki: 1–2 for a subject).
    best: { steps: 3000, numVectors: 2, tiLearningRate: 5e-4 },
  },
  lora: {
    // half of diffusers' train_dreambooth_lora.py README run, same rate and rank.
    quick: { steps: 250, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false },
    // diffusers train_dreambooth_lora.py README: 500 steps, lr 1e-4, rank 4 (train_text_to_image_lora.py's defaults too).
    standard: { steps: 500, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false },
    // kohya sd-scripts' usual LoRA: network_dim 16 (8–32), unet_lr 1e-4, text_encoder_lr 5e-5; 1500 steps.
    best: { steps: 1500, rank: 16, loraLearningRate: 1e-4, textEncoderLora: true, textEncoderLearningRate: 5e-5 },
  },
  both: {
    // the LoRA's steps and rank with the token at A1111's 0.005.
    quick: { steps: 250, numVectors: 1, tiLearningRate: 5e-3, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false },
    standard: { steps: 500, numVectors: 1, tiLearningRate: 5e-3, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false },
    // kohya's rank and rates (above) with two vectors (A1111).
    best: { steps: 1500, numVectors: 2, tiLearningRate: 5e-3, rank: 16, loraLearningRate: 1e-4, textEncoderLora: true, textEncoderLearningRate: 5e-5 },
  },
  dreambooth: {
    // the LoRA's steps and rate with 25 class images: a first try.
    quick: { steps: 250, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false, classImages: 25 },
    // diffusers train_dreambooth_lora.py README: 500 steps, lr 1e-4, rank 4; the 50 class images.
    standard: { steps: 500, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false, classImages: 50 },
    // diffusers' DreamBooth README with prior preservation: 800 steps; 100 class images (the paper generates 1000 for full fine-tuning).
    best: { steps: 800, rank: 4, loraLearningRate: 1e-4, textEncoderLora: false, classImages: 100 },
  },
  pplus: {
    // issue 13 / the methods golden's README: the P+ reference trains 500 steps with TI's other settings (5e-3); half and twice that.
    quick: { steps: 250, numVectors: 1, tiLearningRate: 5e-3 },
    standard: { steps: 500, numVectors: 1, tiLearningRate: 5e-3 },
    best: { steps: 1000, numVectors: 1, tiLearningRate: 5e-3 },
  },
  perfusion: {
    // our choice (no reference's numbers were checked here): TI's rate for the token and the value targets, P+'s step counts.
    quick: { steps: 250, numVectors: 1, tiLearningRate: 5e-3 },
    standard: { steps: 500, numVectors: 1, tiLearningRate: 5e-3 },
    best: { steps: 1000, numVectors: 1, tiLearningRate: 5e-3 },
  },
};

/** The model's side of it: the card's steps and rates, as modelTrainingDefaults reads them. */
export type PresetModel = Pick<ModelInfo, 'card' | 'imageSize'> | null;

/**
 * A preset for the method on the model: where the card recommends steps or a rate, Standard takes
 * it and Quick and Best keep their ratio to Standard (steps within 1 to 10,000).
 */
export function presetSettings(method: TrainingMethod, preset: PresetName, model: PresetModel): PresetSettings {
  const base = TABLE[method][preset];
  const standard = TABLE[method].standard;
  const card: Partial<TrainerOptions> = model ? modelTrainingDefaults(model) : {};
  const scaled = (value: number | undefined, standardValue: number | undefined, recommended: number | undefined) =>
    value === undefined || standardValue === undefined || recommended === undefined ? value : Number(((value * recommended) / standardValue).toPrecision(3));
  const steps = Math.min(TRAINER_LIMITS.maxSteps, Math.max(1, Math.round(scaled(base.steps, standard.steps, card.steps)!)));
  const out: PresetSettings = { ...base, steps };
  if (base.tiLearningRate !== undefined) out.tiLearningRate = scaled(base.tiLearningRate, standard.tiLearningRate, card.tiLearningRate);
  if (base.loraLearningRate !== undefined) out.loraLearningRate = scaled(base.loraLearningRate, standard.loraLearningRate, card.loraLearningRate);
  return out;
}

/** The options with the preset's settings (alpha back to the rank, as the trainers default it). */
export function applyPreset(options: TrainerOptions, preset: PresetName, model: PresetModel): TrainerOptions {
  const { alpha: _alpha, ...rest } = options;
  return { ...rest, ...presetSettings(options.method, preset, model) };
}

/** The preset the options match on every setting a preset sets, or null: "Custom". */
export function matchingPreset(options: TrainerOptions, model: PresetModel): PresetName | null {
  const value = (key: keyof PresetSettings): unknown => {
    if (key === 'textEncoderLearningRate') return options.textEncoderLearningRate ?? (options.loraLearningRate ?? D.loraLearningRate) / 2;
    return options[key] ?? (D as Partial<Record<keyof PresetSettings, unknown>>)[key];
  };
  const alphaIsRank = options.alpha === undefined || options.alpha === (options.rank ?? D.rank);
  return (
    PRESETS.find((preset) => {
      const settings = presetSettings(options.method, preset, model);
      const keys = (Object.keys(settings) as (keyof PresetSettings)[]).filter((k) => k !== 'textEncoderLearningRate' || settings.textEncoderLora);
      return alphaIsRank && keys.every((k) => value(k) === settings[k]);
    }) ?? null
  );
}
