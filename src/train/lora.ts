/**
 * Cross-attention LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"):
 * on chosen linears of every UNet `attn2`, y = W x + b + (alpha / r) · up(down(x)) with down
 * [r, in] and up [out, r] trainable and W frozen (attached through `Weights.setAdapter`).
 * Initialised as PEFT does: down (lora_A) Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in),
 * up (lora_B) zero, so training starts from the base model. Saved keys follow diffusers:
 * `unet.<linear prefix>.lora.{down,up}.weight`.
 */
import * as tf from '../gpu/tf';
import type { UNetConfig } from '../model/config';
import { rng } from '../common/random';
import type { Weights } from '../model/weights';

import { DEFAULT_LORA_TARGETS, type LoraTarget } from './config';
import { crossAttentionLayers } from './formats/lora-modules';

export { crossAttentionLayers, type CrossAttention } from './formats/lora-modules';

/** [out, in] of an attn2 linear. */
function linearShape(target: LoraTarget, channels: number, crossAttentionDim: number): [number, number] {
  return target === 'to_k' || target === 'to_v' ? [channels, crossAttentionDim] : [channels, channels];
}

export interface LoraOptions {
  rank: number;
  /** Default: rank (scale 1). */
  alpha?: number;
  targets?: readonly LoraTarget[];
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
    private readonly unet: Weights,
    readonly layers: LoraLayer[],
    readonly scale: number,
  ) {
    try {
      for (const l of layers) unet.setAdapter(l.prefix, { down: l.down, up: l.up, scale });
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Fresh adapters on `targets` of every attn2, attached to `unet`. */
  static create(unet: Weights, config: UNetConfig, options: LoraOptions): Lora {
    const { rank, alpha = options.rank, targets = DEFAULT_LORA_TARGETS, seed = 0 } = options;
    if (!(Number.isInteger(rank) && rank >= 1)) throw new Error(`LoRA: rank must be a positive integer, got ${rank}.`);
    const next = rng(seed);
    const layers: LoraLayer[] = [];
    for (const { prefix, channels } of crossAttentionLayers(config)) {
      for (const target of targets) {
        const [out, inFeatures] = linearShape(target, channels, config.crossAttentionDim);
        const bound = 1 / Math.sqrt(inFeatures);
        const down = Float32Array.from({ length: rank * inFeatures }, () => (2 * next() - 1) * bound);
        layers.push({
          prefix: `${prefix}.${target}`,
          down: trainable(tf.tensor2d(down, [rank, inFeatures])),
          up: trainable(tf.zeros([out, rank])),
        });
      }
    }
    return new Lora(unet, layers, alpha / rank);
  }

  /**
   * Adapters from saved values by key (`unet.<prefix>.lora.down.weight` and `.up.weight`; other
   * keys are ignored), attached to `unet`.
   */
  static fromValues(unet: Weights, values: ReadonlyMap<string, LoraValue>, scale: number): Lora {
    const layers: LoraLayer[] = [];
    for (const [key, down] of values) {
      const prefix = loraPrefix(key, 'down');
      if (prefix === null) continue;
      const up = values.get(loraKey(prefix, 'up'));
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
    return new Lora(unet, layers, scale);
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.down, l.up]);
  }

  /** Saved keys of `variables()`, in the same order. */
  keys(): string[] {
    return this.layers.flatMap((l) => [loraKey(l.prefix, 'down'), loraKey(l.prefix, 'up')]);
  }

  /** Takes the adapters off the UNet (the variables stay). */
  detach(): void {
    if (!this.attached) return;
    for (const l of this.layers) this.unet.setAdapter(l.prefix, null);
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

export function loraKey(prefix: string, part: 'down' | 'up'): string {
  return `unet.${prefix}.lora.${part}.weight`;
}

/** The linear prefix of a saved key of that part, or null. */
function loraPrefix(key: string, part: 'down' | 'up'): string | null {
  const suffix = `.lora.${part}.weight`;
  return key.startsWith('unet.') && key.endsWith(suffix) ? key.slice('unet.'.length, -suffix.length) : null;
}
