/**
 * Evaluating a concept, DreamBench's way: the fixed evaluation set (`features/evaluation-set.ts`)
 * generated with the concept and, as the baseline, with its class word alone (the concept off),
 * then scored by the feature models against the training photos; on the built-in model with a
 * sample concept, the shapes world's prompts too, scored by its analyzer (`world-evaluation.ts`).
 * Progress per image and per scoring phase; cancel between images and phases (and within each
 * image's steps).
 */
import { StudioError } from '../common/errors';
import { conceptPhrase, evaluationPrompts, EVALUATION_SEEDS } from '../features/evaluation-set';
import type { FeatureModels } from '../features/feature-models';
import { readScores } from '../features/reading';
import { evaluationScores, type EmbeddedImage } from '../features/scores';
import type { StableDiffusionModel } from '../model/load';
import { CancelledError, textToImage, type PromptTokenizer } from '../model/pipeline';
import { activateConcepts, type ConceptTokenizers } from './active-concepts';
import type { ConceptEvaluation, EvaluateRequest, EvaluationImage, JobContext, ModelInfo, RgbaImage } from './protocol';
import { WORLD_SIZE } from '../world/render';
import { evaluationSample, worldEvaluation, worldPrompts } from './world-evaluation';

export interface EvaluationModel {
  sd: StableDiffusionModel;
  tokenizer: PromptTokenizer;
  conceptTokenizers: ConceptTokenizers;
  info: ModelInfo;
}

/** Steps when the request names none: enough for a recognisable image with DDIM. */
export const EVALUATION_STEPS = 20;
/** The largest default size (the model's native size otherwise). */
const MAX_DEFAULT_SIZE = 512;
/** Share of the progress bar the generation takes; scoring the rest. */
const GENERATION_SHARE = 0.85;

export interface EvaluationSettingsChosen {
  seeds: number[];
  steps: number;
  size: number;
}

/** The request's settings with the defaults filled in; InvalidRequest (before anything downloads or runs) for what cannot be evaluated. */
export function evaluationSettings(request: EvaluateRequest, nativeSize: number): EvaluationSettingsChosen {
  if (request.photos.length === 0) throw new StudioError('InvalidRequest', "The evaluation needs the concept's training photos.", 'Evaluate a trained concept that keeps its photos.');
  if (!request.concept.classWord.trim()) throw new StudioError('InvalidRequest', "The evaluation needs the concept's class word (what it is: dog, mug, painting).", 'Give the concept a class word in the library, then evaluate it.');
  const seeds = request.seeds ?? [...EVALUATION_SEEDS];
  const steps = request.steps ?? EVALUATION_STEPS;
  const size = request.size ?? Math.min(nativeSize, MAX_DEFAULT_SIZE);
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new StudioError('InvalidRequest', 'The evaluation needs at least one seed, each a whole number.');
  if (!Number.isInteger(steps) || steps < 1) throw new StudioError('InvalidRequest', `Evaluation steps must be a positive whole number, not ${steps}.`);
  if (!Number.isInteger(size) || size < 8 || size % 8 !== 0) throw new StudioError('InvalidRequest', `The evaluation image size must be a multiple of 8, not ${size}.`);
  return { seeds, steps, size };
}

export async function runEvaluation(request: EvaluateRequest, ctx: JobContext, model: EvaluationModel, features: FeatureModels): Promise<ConceptEvaluation> {
  const started = Date.now();
  const { concept, photos } = request;
  const { seeds, steps, size } = evaluationSettings(request, model.info.imageSize);
  const classWord = concept.classWord.trim();
  const prompts = evaluationPrompts(concept.token, classWord, concept.embedding !== null);
  const sample = evaluationSample(model.info.id, concept.token);
  const shapes = sample ? worldPrompts(sample, conceptPhrase(concept.token, classWord, concept.embedding !== null), classWord) : [];
  const total = 2 * (prompts.length + shapes.length) * seeds.length;
  const images: EvaluationImage[] = [];
  const worldImages: EvaluationImage[] = [];
  const check = () => {
    if (ctx.signal.aborted) throw new CancelledError();
  };

  /** Each prompt × seed, with the concept or (baseline) its class word alone; the shapes world's at its own 64 px. */
  const generate = async (baseline: boolean, list: readonly { prompt: string; classPrompt: string }[], into: EvaluationImage[], world: boolean) => {
    const active = baseline ? null : activateConcepts(model.sd, model.conceptTokenizers, [concept]);
    const side = world ? WORLD_SIZE : size;
    try {
      for (const { prompt, classPrompt } of list) {
        for (const seed of seeds) {
          check();
          const n = images.length + worldImages.length + 1;
          const text = baseline ? classPrompt : prompt;
          const result = await textToImage(model.sd, active?.tokenizer ?? model.tokenizer, { prompt: active ? active.rewrite(text) : text, seed, steps, width: side, height: side, batch: 1 }, {
            signal: ctx.signal,
            embedTokens: active?.embedTokens,
            onStep: ({ step }) => ctx.progress({ label: `Evaluation image ${n}/${total}, step ${step}/${steps}`, fraction: (GENERATION_SHARE * (n - 1 + step / steps)) / total }),
          });
          into.push({ prompt: text, seed, baseline, image: result.images[0], ...(world && { world }) });
        }
      }
    } finally {
      active?.dispose();
    }
  };
  await generate(true, prompts, images, false);
  await generate(false, prompts, images, false);
  if (sample) {
    await generate(true, shapes, worldImages, true);
    await generate(false, shapes, worldImages, true);
  }

  const phase = (label: string, fraction: number) => {
    check();
    ctx.progress({ label, fraction: GENERATION_SHARE + (1 - GENERATION_SHARE) * fraction });
  };
  phase('Scoring: CLIP', 0);
  const all: RgbaImage[] = [...photos, ...images.map((im) => im.image)];
  const clip = await features.clipImages(all);
  const classPrompts = prompts.map((p) => p.classPrompt);
  const text = await features.clipTexts(classPrompts);
  phase('Scoring: DINO', 0.5);
  const dino = await features.dinoImages(all);
  if (sample) phase('Scoring: shapes analyzer', 0.9);
  const world = sample && worldEvaluation(sample, shapes, worldImages, seeds.length);
  phase('Scoring: done', 1);

  const photoEmbeds = { clip: clip.slice(0, photos.length), dino: dino.slice(0, photos.length) };
  const embedded = (baseline: boolean): EmbeddedImage[] =>
    images.flatMap((im, i) => (im.baseline === baseline ? [{ clip: clip[photos.length + i], dino: dino[photos.length + i], prompt: text[Math.floor((i % (prompts.length * seeds.length)) / seeds.length)] }] : []));
  const scores = evaluationScores(embedded(false), photoEmbeds);
  const baseline = evaluationScores(embedded(true), photoEmbeds);
  return {
    scores,
    baseline,
    reading: readScores(scores, baseline),
    images: [...images, ...worldImages],
    settings: { model: model.info.name, steps, size, seeds, prompts: prompts.map((p) => p.prompt), featureModels: [features.files.clip.name, features.files.dino.name] },
    evaluatedAt: Date.now(),
    durationMs: Date.now() - started,
    ...(world && { world }),
  };
}

