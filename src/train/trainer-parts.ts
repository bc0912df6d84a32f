/**
 * What a trainer is made of, built from its config (a fresh run) or its checkpoint (a resumed
 * one): the cached latents, the tokenizer with the concept's tokens, the trainable tensors
 * (TI vectors, the UNet's LoRA, the text encoder's LoRA), their optimizers (one per rate) and the
 * seeded generator.
 */
import type * as tf from '../gpu/tf';
import { SeededRng } from '../common/random';
import { AdamW } from '../kernels/adamw';
import type { StableDiffusionModel } from '../model/load';
import { validateToken } from '../model/prompt-tokens';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { vaeEncode, type Posterior } from '../model/vae';
import { disposeLatents, encodeImages, type CachedLatent } from './batch';
import type { Checkpoint } from './checkpoint';
import { restoreClassLatents, type ClassImageSampler } from './class-images';
import { trainsLora, trainsVectors, type TrainerConfig } from './config';
import { pickRareToken } from './rare-token';
import { crossAttentionPaths } from '../model/cross-attention';
import type { LayerTokenMap } from '../model/layer-tokens';
import type { LearningRates } from './run-hooks';
import { Lora, textEncoderAttentionModules, type LoraValue } from './lora';
import { TextualInversion } from './textual-inversion';
import { PerfusionConcept, type ConceptEncodings } from './perfusion-concept';
import { isPerfusionKey, perfusionValueKey, storedValues } from './perfusion-training';

/** The checkpoint key of the TI vectors. */
export const TI_KEY = 'ti.vectors';

export interface TrainerDeps {
  /** The VAE encoder (default `vaeEncode` on the model's VAE); a seam for tests. */
  encode?: (image: tf.Tensor4D) => Posterior;
  /** DreamBooth's class-image sampler (default the frozen model's DDIM, class-images.ts); a seam for tests. */
  sampleClassImage?: ClassImageSampler;
  /** Perfusion: the model's C⁻¹ ([D × D], `perfusion-covariance.ts`; the engine computes it once per model). Required for method 'perfusion'. */
  covarianceInverse?: Float32Array;
}

export interface TrainerParts {
  model: StableDiffusionModel;
  config: TrainerConfig;
  scheduler: DdpmScheduler;
  tokenizer: ClipTokenizer;
  latents: CachedLatent[];
  /** DreamBooth: the class images drawn so far (all `config.classImages` before the first step). */
  classLatents: CachedLatent[];
  /** How images become latents (photos and class images). */
  encode: (image: tf.Tensor4D) => Posterior;
  rng: SeededRng;
  ti: TextualInversion | null;
  /** P+: the concept token's id → its id at each cross-attention layer (the TI vectors' ids, one per layer). */
  layerTokens: LayerTokenMap | null;
  lora: Lora | null;
  /** The text encoder's LoRA (`textEncoderLora`). */
  textEncoderLora: Lora | null;
  tiOptimizer: AdamW | null;
  /** Perfusion: C⁻¹, and the edit with its optimizer (TI's rate): made at the first step from its batch (`perfusion-concept.ts`), or from the checkpoint. */
  covarianceInverse: Float32Array | null;
  perfusion: PerfusionConcept | null;
  perfusionOptimizer: AdamW | null;
  loraOptimizer: AdamW | null;
  textEncoderOptimizer: AdamW | null;
}

/** The generator's first state: `seed` mixed, so its draws differ from LoRA's init (which uses `seed`). */
function trainingSeed(seed: number): number {
  return (seed ^ 0x9e3779b9) >>> 0;
}

/** The seed of the text encoder LoRA's init: `seed` mixed, so its downs differ from the UNet's. */
function textEncoderSeed(seed: number): number {
  return (seed ^ 0x7f4a7c15) >>> 0;
}

/**
 * Step 0 and the trainable state. With `from`, its tensor values and generator state (the
 * optimizer moments are the trainer's to restore); on failure everything made is freed.
 */
export function buildTrainerParts(model: StableDiffusionModel, requested: TrainerConfig, images: Float32Array, deps: TrainerDeps, from: Checkpoint | null): TrainerParts {
  const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
  // a fresh rare-token run names its subject with a word of the vocabulary from here on
  const config = requested.identifier === 'rare' && !from ? { ...requested, token: pickRareToken(tokenizer, requested.seed) } : requested;
  const { method } = config;
  // a token that gets vectors must be a new word (before the photos are encoded)
  if (trainsVectors(method)) validateToken(config.token, { isVocabularyWord: (t) => tokenizer.isVocabularyWord(t) });
  const encode = deps.encode ?? ((image: tf.Tensor4D) => vaeEncode(model.vae.weights, model.vae.config, image));
  const latents = encodeImages(images, config.resolution, encode);
  const classLatents = restoreClassLatents(from?.classLatents);
  const owned: { dispose(): void }[] = [{ dispose: () => disposeLatents(latents) }, { dispose: () => disposeLatents(classLatents) }];
  try {
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const stored = new Map((from?.tensors ?? []).map((t) => [t.key, t]));
    let ti: TextualInversion | null = null;
    let lora: Lora | null = null;
    let layerTokens: LayerTokenMap | null = null;
    if (method === 'pplus') {
      const { tokenIds, initIds } = pplusTokens(tokenizer, config, crossAttentionPaths(model.unet.config).length);
      ti = TextualInversion.create(model.text.weights, { numVectors: tokenIds.length, tokenIds, initIds, values: stored.get(TI_KEY)?.data });
      owned.push(ti);
      layerTokens = new Map([[tokenIds[0], tokenIds]]);
    } else if (trainsVectors(method)) {
      const tokenIds = tokenizer.addConcept(config.token, config.numVectors);
      const values = stored.get(TI_KEY)?.data;
      const initIds = tokenizer.tokenize(config.classWord);
      ti = TextualInversion.create(model.text.weights, { numVectors: config.numVectors, tokenIds, initIds, values });
      owned.push(ti);
    }
    const values = new Map<string, LoraValue>([...stored].filter(([k]) => k !== TI_KEY && !isPerfusionKey(k)));
    const scale = config.alpha / config.rank;
    if (trainsLora(method)) {
      lora = from
        ? Lora.fromValues(model.unet.weights, values, scale)
        : Lora.create(model.unet.weights, model.unet.config, { rank: config.rank, alpha: config.alpha, targets: config.targets, seed: config.seed });
      owned.push(lora);
    }
    let textEncoderLora: Lora | null = null;
    if (config.textEncoderLora) {
      const text = model.text.weights;
      textEncoderLora = from
        ? Lora.fromValues(text, values, scale, 'text_encoder')
        : Lora.createOn(text, 'text_encoder', textEncoderAttentionModules(model.text.config), { rank: config.rank, alpha: config.alpha, seed: textEncoderSeed(config.seed) });
      owned.push(textEncoderLora);
    }
    const adamw = (variables: tf.Variable[]) => {
      const o = new AdamW(variables, { weightDecay: config.weightDecay });
      owned.push(o);
      return o;
    };
    const tiOptimizer = ti ? adamw([ti.vectors]) : null;
    const covarianceInverse = method === 'perfusion' ? checkedCovariance(deps.covarianceInverse, model.text.config.hiddenSize) : null;
    let perfusion: PerfusionConcept | null = null;
    if (covarianceInverse && from?.perfusion) {
      perfusion = PerfusionConcept.restore(model.unet, covarianceInverse, from.perfusion, storedValues(from.tensors, model.unet.config));
      owned.push(perfusion);
    }
    const perfusionOptimizer = perfusion ? adamw(perfusion.variables) : null;
    const loraOptimizer = lora ? adamw(lora.variables()) : null;
    const textEncoderOptimizer = textEncoderLora ? adamw(textEncoderLora.variables()) : null;
    const rng = new SeededRng(from?.rngState ?? trainingSeed(config.seed));
    return { model, config, scheduler, tokenizer, latents, classLatents, encode, rng, ti, layerTokens, lora, textEncoderLora, tiOptimizer, covarianceInverse, perfusion, perfusionOptimizer, loraOptimizer, textEncoderOptimizer };
  } catch (error) {
    owned.reverse().forEach((o) => o.dispose());
    throw error;
  }
}

/**
 * P+ tokens (mkshing's prompt-plus naming): `<tok>` is layer 0's token and `<tok>-l` layer l's
 * (l ≥ 1, added so their ids are the next ones); every layer's vector starts as the class word's
 * first token, as mkshing's single initializer token.
 */
function pplusTokens(tokenizer: ClipTokenizer, config: TrainerConfig, layers: number): { tokenIds: number[]; initIds: number[] } {
  const tokenIds = [...tokenizer.addConcept(config.token, 1), ...tokenizer.addTokens(Array.from({ length: layers - 1 }, (_, l) => `${config.token}-${l + 1}`))];
  return { tokenIds, initIds: tokenizer.tokenize(config.classWord).slice(0, 1) };
}

function checkedCovariance(cInv: Float32Array | undefined, d: number): Float32Array {
  if (!cInv) throw new Error("Perfusion needs the model's C⁻¹ (TrainerDeps.covarianceInverse, perfusion-covariance.ts).");
  if (cInv.length !== d * d || !cInv.every(Number.isFinite)) throw new Error(`Perfusion: C⁻¹ must be ${d}×${d} finite values, got ${cInv.length}.`);
  return cInv;
}

/** Perfusion's first step: the edit from its batch's encodings, and its optimizer. */
export function startPerfusion(parts: TrainerParts, first: ConceptEncodings): void {
  if (parts.perfusion || !parts.covarianceInverse) throw new Error('perfusion: the edit is already made, or this run is not a Perfusion one.');
  parts.perfusion = PerfusionConcept.create(parts.model.unet, parts.covarianceInverse, first);
  parts.perfusionOptimizer = new AdamW(parts.perfusion.variables, { weightDecay: parts.config.weightDecay });
}

/** Frees the trainable tensors, optimizer state and cached latents; detaches the LoRAs. */
export function disposeTrainerParts(parts: TrainerParts): void {
  optimizerSlices(parts).forEach((o) => o.optimizer.dispose());
  parts.ti?.dispose();
  parts.perfusion?.dispose();
  parts.lora?.dispose();
  parts.textEncoderLora?.dispose();
  disposeLatents(parts.latents);
  disposeLatents(parts.classLatents);
}

/** An optimizer of the run: its rate, and where its variables are in `trainableVariables`' order. */
export interface OptimizerSlice {
  rate: keyof LearningRates;
  optimizer: AdamW;
  start: number;
  end: number;
}

/** The run's optimizers, in variable order (TI, Perfusion's values, the UNet's LoRA, the text encoder's). */
export function optimizerSlices(parts: TrainerParts): OptimizerSlice[] {
  const all = [['ti', parts.tiOptimizer], ['ti', parts.perfusionOptimizer], ['lora', parts.loraOptimizer], ['textEncoder', parts.textEncoderOptimizer]] as const;
  const out: OptimizerSlice[] = [];
  let start = 0;
  for (const [rate, optimizer] of all) {
    if (!optimizer) continue;
    out.push({ rate, optimizer, start, end: start + optimizer.variables.length });
    start += optimizer.variables.length;
  }
  return out;
}

/** Trainable tensors: TI vectors first, then Perfusion's v* per layer, the UNet's LoRA down/up per layer, the text encoder's. */
export function trainableVariables(parts: TrainerParts): tf.Variable[] {
  return [...(parts.ti ? [parts.ti.vectors] : []), ...(parts.perfusion?.variables ?? []), ...(parts.lora?.variables() ?? []), ...(parts.textEncoderLora?.variables() ?? [])];
}

/** Trainable keys in variable order. */
export function trainableKeys(parts: TrainerParts): string[] {
  const perfusion = parts.perfusion ? crossAttentionPaths(parts.model.unet.config).map(perfusionValueKey) : [];
  return [...(parts.ti ? [TI_KEY] : []), ...perfusion, ...(parts.lora?.keys() ?? []), ...(parts.textEncoderLora?.keys() ?? [])];
}
