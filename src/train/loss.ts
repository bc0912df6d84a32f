/**
 * The latent-diffusion training loss (Ho et al. 2020, eq. 14 "L_simple"; Rombach et al. 2022,
 * eq. 2), as diffusers' textual-inversion and LoRA training scripts compute it:
 *   1. noisy = sqrt(ᾱ_t) z0 + sqrt(1 − ᾱ_t) ε (DDPM add_noise);
 *   2. text states c = CLIP(ids), with a textual-inversion token lookup when one is given;
 *   3. pred = unet(noisy, t, c);
 *   4. loss = mean((pred − target)²) over all elements; target = ε for epsilon prediction.
 * With prior preservation (DreamBooth, diffusers' train_dreambooth_lora.py) the batch is the
 * instance half then the class half, and loss = MSE(instance half) + λ · MSE(class half).
 * Every frozen weight stays frozen: gradients are taken for the given variables only.
 */
import * as tf from '../gpu/tf';
import { clipTextEncoder } from '../model/clip';
import type { StableDiffusionModel } from '../model/load';
import type { DdpmScheduler } from '../model/schedulers';
import { unetForward, type CrossAttentionHooks } from '../model/unet';
import { crossAttentionPaths } from '../model/cross-attention';
import type { LayerTokenMap } from '../model/layer-tokens';
import { idsPerLayer, layerContexts } from './per-layer-text';

export interface TrainingBatch {
  /** Clean latents z0, already scaled by the VAE's scaling_factor: NCHW [B, 4, h, w]. */
  latents: tf.Tensor4D;
  /** ε, same shape. */
  noise: tf.Tensor4D;
  /** One integer timestep per batch element. */
  timesteps: readonly number[];
  /** Prompt token ids [B, 77], int32. */
  inputIds: tf.Tensor2D;
}

export interface LossOptions {
  /** Token lookup for the text encoder (textual inversion); default: the frozen table. */
  embedTokens?: (ids: tf.Tensor2D) => tf.Tensor3D;
  /** Recompute UNet blocks in the backward pass (activation checkpointing) to save memory. */
  checkpointing?: boolean;
  /**
   * P+: the prompt is encoded once per cross-attention layer (these ids replaced by their layer-l
   * ids, `layer-tokens.ts`), all layers in one text-encoder call, and the l-th attn2 reads layer
   * l's states; `encoderHiddenStates` is then [L·B, 77, D], layer-major.
   */
  layerTokens?: LayerTokenMap;
  /** Hooks on every attn2 besides P+'s contexts: Perfusion's K/V edit (`perfusion-hooks.ts`). */
  crossAttention?: CrossAttentionHooks;
  /** Prior preservation's λ: the batch's second half is class images (DreamBooth). */
  priorLossWeight?: number;
}

export interface LossParts {
  noisy: tf.Tensor4D;
  encoderHiddenStates: tf.Tensor3D;
  modelPred: tf.Tensor4D;
  loss: tf.Scalar;
  /** With `priorLossWeight`: the two halves' MSEs (loss = instanceLoss + λ · priorLoss). */
  instanceLoss?: tf.Scalar;
  priorLoss?: tf.Scalar;
}

type Model = Pick<StableDiffusionModel, 'text' | 'unet'>;

/** The loss and what leads to it; the caller disposes all four. */
export function diffusionLoss(model: Model, scheduler: DdpmScheduler, batch: TrainingBatch, options: LossOptions = {}): LossParts {
  return tf.tidy(() => {
    const { latents, noise, timesteps, inputIds } = batch;
    if (!tf.util.arraysEqual(latents.shape, noise.shape)) throw new Error(`loss: noise [${noise.shape}] differs from latents [${latents.shape}].`);
    // 1. forward diffusion
    const noisy = scheduler.addNoise(latents, noise, timesteps) as tf.Tensor4D;
    // 2. text states
    const layers = options.layerTokens ? crossAttentionPaths(model.unet.config).length : 0;
    const ids = options.layerTokens ? idsPerLayer(inputIds, options.layerTokens, layers) : inputIds;
    const text = clipTextEncoder(model.text.weights, model.text.config, ids, { embedTokens: options.embedTokens });
    // 3. noise prediction
    const states = text.lastHiddenState;
    const B = inputIds.shape[0];
    const unetInput = options.layerTokens
      ? { sample: noisy, timesteps, encoderHiddenStates: states.slice([0, 0, 0], [B, -1, -1]), crossAttention: { ...options.crossAttention, ...layerContexts(states, B) } }
      : { sample: noisy, timesteps, encoderHiddenStates: states, crossAttention: options.crossAttention };
    const modelPred = unetForward(model.unet.weights, model.unet.config, unetInput, undefined, { checkpointing: options.checkpointing });
    // 4. mean squared error
    const target = scheduler.trainingTarget(latents, noise, timesteps);
    if (options.priorLossWeight === undefined) {
      const loss = tf.mean(tf.squaredDifference(modelPred, target)) as tf.Scalar;
      return { noisy, encoderHiddenStates: text.lastHiddenState, modelPred, loss };
    }
    // torch.chunk(…, 2, dim=0) of prediction and target: instance half, class half
    const half = latents.shape[0] / 2;
    if (!Number.isInteger(half) || half < 1) throw new Error(`loss: prior preservation needs an even batch, got ${latents.shape[0]}.`);
    const [pred, predPrior] = tf.split(modelPred, 2, 0);
    const [tgt, tgtPrior] = tf.split(target, 2, 0);
    const instanceLoss = tf.mean(tf.squaredDifference(pred, tgt)) as tf.Scalar;
    const priorLoss = tf.mean(tf.squaredDifference(predPrior, tgtPrior)) as tf.Scalar;
    const loss = tf.add(instanceLoss, tf.mul(priorLoss, options.priorLossWeight)) as tf.Scalar;
    return { noisy, encoderHiddenStates: text.lastHiddenState, modelPred, loss, instanceLoss, priorLoss };
  });
}

/**
 * The loss and d loss / d each of `variables` (same order; zeros for a variable the loss does
 * not reach). Nothing else is differentiated; the caller disposes the loss and the gradients.
 */
export function lossAndGrads(
  model: Model,
  scheduler: DdpmScheduler,
  batch: TrainingBatch,
  variables: readonly tf.Variable[],
  options: LossOptions = {},
): { loss: tf.Scalar; grads: tf.Tensor[] } {
  const { value, grads } = tf.variableGrads(() => diffusionLoss(model, scheduler, batch, options).loss, [...variables]);
  return { loss: value, grads: variables.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}
