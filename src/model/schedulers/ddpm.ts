/**
 * DDPM's forward process for training (Ho et al. 2020, "Denoising Diffusion Probabilistic
 * Models"): noising a clean sample to timestep t, and the v-prediction target. Built from a
 * diffusers scheduler config as `DDPMScheduler.from_config(config)` reads it.
 */
import * as tf from '../../gpu/tf';
import { type NoiseSchedule, type PredictionType, PREDICTION_TYPES, makeNoiseSchedule, readNoiseScheduleConfig } from './noise-schedule';
import { type Json, readOneOf } from '../config';

const f32 = Math.fround;

export class DdpmScheduler {
  private constructor(
    readonly schedule: NoiseSchedule,
    readonly predictionType: PredictionType,
  ) {}

  static fromConfig(config: Json): DdpmScheduler {
    const model = 'DDPMScheduler';
    return new DdpmScheduler(
      makeNoiseSchedule(readNoiseScheduleConfig(model, config)),
      readOneOf(model, config, 'prediction_type', PREDICTION_TYPES, 'epsilon'),
    );
  }

  get alphasCumprod(): Float32Array {
    return this.schedule.alphasCumprod;
  }

  /**
   * x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε: a sample of q(x_t | x_0), eq. (4) of Ho et al.
   * `timesteps` holds one integer timestep per batch element (or one for all).
   */
  addNoise(original: tf.Tensor, noise: tf.Tensor, timesteps: ArrayLike<number>): tf.Tensor {
    return tf.tidy(() => {
      const { signal, noiseScale } = this.coefficients(timesteps, original.rank);
      return tf.add(tf.mul(original, signal), tf.mul(noise, noiseScale));
    });
  }

  /**
   * v = sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0, the v-prediction target (Salimans & Ho 2022,
   * "Progressive Distillation for Fast Sampling of Diffusion Models", section 4).
   */
  getVelocity(sample: tf.Tensor, noise: tf.Tensor, timesteps: ArrayLike<number>): tf.Tensor {
    return tf.tidy(() => {
      const { signal, noiseScale } = this.coefficients(timesteps, sample.rank);
      return tf.sub(tf.mul(noise, signal), tf.mul(sample, noiseScale));
    });
  }

  /** What the model learns to predict for this config's prediction_type. */
  trainingTarget(sample: tf.Tensor, noise: tf.Tensor, timesteps: ArrayLike<number>): tf.Tensor {
    if (this.predictionType === 'epsilon') return tf.clone(noise);
    if (this.predictionType === 'v_prediction') return this.getVelocity(sample, noise, timesteps);
    return tf.clone(sample);
  }

  /** sqrt(ᾱ_t) and sqrt(1 - ᾱ_t) per batch element, shaped [B, 1, ...] to broadcast over a rank-`rank` tensor. */
  private coefficients(timesteps: ArrayLike<number>, rank: number): { signal: tf.Tensor; noiseScale: tf.Tensor } {
    const acp = this.schedule.alphasCumprod;
    const n = timesteps.length;
    const signal = new Float32Array(n);
    const noiseScale = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = timesteps[i];
      if (!Number.isInteger(t) || t < 0 || t >= acp.length) {
        throw new RangeError(`timestep ${t} must be an integer from 0 to ${acp.length - 1}`);
      }
      signal[i] = Math.sqrt(acp[t]);
      noiseScale[i] = Math.sqrt(f32(1 - acp[t]));
    }
    const shape = [n, ...Array<number>(Math.max(rank - 1, 0)).fill(1)];
    return { signal: tf.tensor(signal, shape), noiseScale: tf.tensor(noiseScale, shape) };
  }
}
