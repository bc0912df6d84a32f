/**
 * The model that ships with the studio: a small SD 1.x-topology model really trained on a
 * synthetic world of coloured shapes (public/models/shapes-sd, its README), so the studio works
 * offline at once. Served with the app's static files; in Node read from the same folder.
 */
import type { SamplerName } from '../text-to-image-options';

export const BUILTIN_MODEL_ID = 'builtin:shapes-sd';
/** The folder under the app's root (Vite's public/) that holds it. */
export const BUILTIN_MODEL_FOLDER = 'models/shapes-sd/';

/** Generation settings a model is best run with. */
export interface GenerationDefaults {
  size: number;
  steps: number;
  guidanceScale: number;
  sampler: SamplerName;
}

/** What the studio says about a model and starts its forms from. */
export interface ModelCard {
  title: string;
  about?: string;
  generation: GenerationDefaults;
  examplePrompts: readonly string[];
  /** Training settings that differ from the studio's defaults for this model. */
  training?: TrainingDefaults;
}

/** A subset of the trainer's options (train/config.ts), as a model recommends them. */
export interface TrainingDefaults {
  resolution?: number;
  steps?: number;
  tiLearningRate?: number;
  loraLearningRate?: number;
  /** Training prompts (`{}` = the concept), where the model's own captions differ from photo-style ones. */
  templates?: string[];
  /** Off where activations are small (the studio turns it on otherwise). */
  gradientCheckpointing?: boolean;
}

export const BUILTIN_MODEL_CARD: ModelCard = {
  title: 'Built-in demo: shapes',
  about: 'A small model of coloured shapes, for trying the studio; load Stable Diffusion 1.5 for photos.',
  generation: { size: 64, steps: 20, guidanceScale: 5, sampler: 'ddim' },
  examplePrompts: [
    'a large red circle on the left on a blue background',
    'a photo of a small yellow star at the top, gray background',
    'a large white square at the bottom on a pink background',
    'a green triangle in the center, black background',
  ],
  training: {
    resolution: 64,
    steps: 100,
    gradientCheckpointing: false, // 64 px activations are a few MB
    // The world's own caption grammar (world.md: prefixes and article), not photo-style templates.
    templates: ['a {}', 'a photo of a {}', 'a picture of a {}', 'an image of a {}', 'a drawing of a {}', 'a large {}', 'a photo of a large {}', 'a large {} in the center'],
  },
};

/** A hub or local model's card: its native size and SD 1.x's usual settings. */
export function defaultModelCard(title: string, imageSize: number): ModelCard {
  return { title, generation: { size: imageSize, steps: 25, guidanceScale: 7.5, sampler: 'ddim' }, examplePrompts: ['a photo of an astronaut riding a horse on the moon'] };
}
