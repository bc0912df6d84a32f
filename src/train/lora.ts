/**
 * LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") on chosen linears
 * of one component: the UNet's `attn2` (cross-attention) or the CLIP text encoder's self-attention
 * projections. y = W x + b + (alpha / r) · up(down(x)) with down [r, in] and up [out, r]
 * trainable and W frozen (attached through `Weights.setAdapter`). Initialised as PEFT does: down
 * (lora_A) Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in), up (lora_B) zero, so training
 * starts from the base model. Saved keys follow diffusers: `<component>.<linear prefix>.lora.{down,up}.weight`
 * (`unet.…attn2.to_k`, `text_encoder.encoder.layers.0.self_attn.q_proj`).
 */
import * as tf from '../gpu/tf';
import type { ClipTextConfig, UNetConfig } from '../model/config';
import { rng } from '../common/random';
import type { Weights } from '../model/weights';

import { DEFAULT_LORA_TARGETS, type LoraTarget } from './config';
import { crossAttentionLayers, textEncoderModules, type LoraComponent } from './formats/lora-modules';

export { crossAttentionLayers, type CrossAttention } from './formats/lora-modules';

/** [out, in] of an attn2 linear. */
function linearShape(target: LoraTarget, channels: number, crossAttentionDim: number): [number, number] {
  return target === 'to_k' || target === 'to_v' ? [channels, crossAttentionDim] : [channels, channels];
}

/** A linear to adapt: its prefix in its component's weights and its [out, in]. */
export interface LoraModule {
  prefix: string;
  shape: readonly [number, number];
}

/** The linears of every attn2 that `targets` names, in `unetForward`'s order. */
export function crossAttentionModules(config: UNetConfig, targets: readonly LoraTarget[] = DEFAULT_LORA_TARGETS): LoraModule[] {
  return crossAttentionLayers(config).flatMap(({ prefix, channels }) =>
    targets.map((target) => ({ prefix: `${prefix}.${target}`, shape: linearShape(target, channels, config.crossAttentionDim) })),
  );
}

/** diffusers' default text-encoder LoRA targets (train_dreambooth_lora.py): every layer's self-attention projections. */
const TEXT_ENCODER_PROJECTIONS = /\.self_attn\.(q|k|v|out)_proj$/;

/** q/k/v/out_proj of every text-encoder layer, in layer order. */
export function textEncoderAttentionModules(config: ClipTextConfig): LoraModule[] {
  return [...textEncoderModules(config)]
    .filter(([prefix]) => TEXT_ENCODER_PROJECTIONS.test(prefix))
    .map(([prefix, shape]) => ({ prefix, shape: [shape[0], shape[1]] }));
}

export interface LoraOptions {
  rank: number;
  /** Default: rank (scale 1). */
  alpha?: number;
  /** Seed of down's initialisation. */
  seed?: number;
}

export interface LoraLayer {
  /** The adapted linear (`…attn2.to_k`). */
  prefix: string;
  down: tf.Variable<tf.Rank.R2>;
  up: tf.Variable<tf.Rank.R2>;
}

/** A value for a saved key, as read from a safetensors file. */
export interface LoraValue {
  shape: number[];
  data: Float32Array | Int32Array;
}

export class Lora {
  private attached = true;

  private constructor(
    private readonly weights: Weights,
    readonly component: LoraComponent,
    readonly layers: LoraLayer[],
    readonly scale: number,
  ) {
    try {
      for (const l of layers) weights.setAdapter(l.prefix, { down: l.down, up: l.up, scale });
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Fresh adapters on `targets` of every attn2, attached to `unet`. */
  static create(unet: Weights, config: UNetConfig, options: LoraOptions & { targets?: readonly LoraTarget[] }): Lora {
    return Lora.createOn(unet, 'unet', crossAttentionModules(config, options.targets), options);
  }

  /** Fresh adapters on `modules` of `component`, attached to its `weights`. */
  static createOn(weights: Weights, component: LoraComponent, modules: readonly LoraModule[], options: LoraOptions): Lora {
    const { rank, alpha = options.rank, seed = 0 } = options;
    if (!(Number.isInteger(rank) && rank >= 1)) throw new Error(`LoRA: rank must be a positive integer, got ${rank}.`);
    const next = rng(seed);
    const layers = modules.map(({ prefix, shape: [out, inFeatures] }): LoraLayer => {
      const bound = 1 / Math.sqrt(inFeatures);
      const down = Float32Array.from({ length: rank * inFeatures }, () => (2 * next() - 1) * bound);
      return { prefix, down: trainable(tf.tensor2d(down, [rank, inFeatures])), up: trainable(tf.zeros([out, rank])) };
    });
    return new Lora(weights, component, layers, alpha / rank);
  }

  /**
   * Adapters from saved values by key (`<component>.<prefix>.lora.down.weight` and `.up.weight`;
   * other keys are ignored), attached to the component's `weights`.
   */
  static fromValues(weights: Weights, values: ReadonlyMap<string, LoraValue>, scale: number, component: LoraComponent = 'unet'): Lora {
    const layers: LoraLayer[] = [];
    for (const [key, down] of values) {
      const prefix = loraPrefix(key, 'down', component);
      if (prefix === null) continue;
      const up = values.get(loraKey(prefix, 'up', component));
      if (!up) throw new Error(`LoRA: '${key}' has no matching up weight.`);
      if (down.shape.length !== 2 || up.shape.length !== 2 || up.shape[1] !== down.shape[0]) {
        throw new Error(`LoRA '${prefix}': down [${down.shape}] and up [${up.shape}] do not fit.`);
      }
      layers.push({
        prefix,
        down: trainable(tf.tensor2d(Float32Array.from(down.data), down.shape as [number, number])),
        up: trainable(tf.tensor2d(Float32Array.from(up.data), up.shape as [number, number])),
      });
    }
    return new Lora(weights, component, layers, scale);
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.down, l.up]);
  }

  /** Saved keys of `variables()`, in the same order. */
  keys(): string[] {
    return this.layers.flatMap((l) => [loraKey(l.prefix, 'down', this.component), loraKey(l.prefix, 'up', this.component)]);
  }

  /** Puts detached adapters back on the model. */
  attach(): void {
    if (this.attached) return;
    for (const l of this.layers) this.weights.setAdapter(l.prefix, { down: l.down, up: l.up, scale: this.scale });
    this.attached = true;
  }

  /** Takes the adapters off the model (the variables stay). */
  detach(): void {
    if (!this.attached) return;
    for (const l of this.layers) this.weights.setAdapter(l.prefix, null);
    this.attached = false;
  }

  dispose(): void {
    this.detach();
    this.layers.forEach((l) => tf.dispose([l.down, l.up]));
  }
}

/** A trainable variable holding `t` (which it takes over). */
function trainable(t: tf.Tensor2D): tf.Variable<tf.Rank.R2> {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

export function loraKey(prefix: string, part: 'down' | 'up', component: LoraComponent = 'unet'): string {
  return `${component}.${prefix}.lora.${part}.weight`;
}

/** The linear prefix of a saved key of that part and component, or null. */
function loraPrefix(key: string, part: 'down' | 'up', component: LoraComponent): string | null {
  const [head, suffix] = [`${component}.`, `.lora.${part}.weight`];
  return key.startsWith(head) && key.endsWith(suffix) ? key.slice(head.length, -suffix.length) : null;
}
