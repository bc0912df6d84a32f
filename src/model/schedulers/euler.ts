/**
 * Euler sampling of the probability-flow ODE in the σ parameterisation of Karras et al. 2022
 * ("Elucidating the Design Space of Diffusion-Based Generative Models", Algorithm 2 with
 * S_churn = 0, i.e. first order, no noise), as diffusers' EulerDiscreteScheduler computes it.
 * Built from a diffusers scheduler config the way `EulerDiscreteScheduler.from_config(config)`
 * reads it.
 *
 * σ_t = sqrt((1 - ᾱ_t) / ᾱ_t) maps DDPM's timesteps to noise levels (Karras et al., Table 1,
 * "VP"); x = x_0 + σ ε, so the model input is scaled by 1 / sqrt(σ² + 1).
 */
import * as tf from '../../gpu/tf';
import type { SchedulerStep } from './ddim';
import { type NoiseSchedule, type PredictionType, type TimestepSpacing, PREDICTION_TYPES, TIMESTEP_SPACINGS, makeNoiseSchedule, readNoiseScheduleConfig, spacedTimesteps } from './noise-schedule';
import { type Json, readInt, readOneOf, rejectUnless } from '../config';

const f32 = Math.fround;

export interface EulerConfig {
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  finalSigmasType: 'zero' | 'sigma_min';
}

export class EulerDiscreteScheduler {
  private timestepList: number[] = [];
  private sigmaList: number[] = [];

  private constructor(
    readonly schedule: NoiseSchedule,
    readonly config: EulerConfig,
    /** σ of every training timestep, float32 like diffusers (sqrt((1 - ᾱ) / ᾱ)). */
    private readonly trainSigmas: Float32Array,
  ) {}

  static fromConfig(config: Json): EulerDiscreteScheduler {
    const model = 'EulerDiscreteScheduler';
    rejectUnless(model, config, 'interpolation_type', ['linear']);
    rejectUnless(model, config, 'use_karras_sigmas', [false, null]);
    rejectUnless(model, config, 'use_exponential_sigmas', [false, null]);
    rejectUnless(model, config, 'use_beta_sigmas', [false, null]);
    rejectUnless(model, config, 'timestep_type', ['discrete']);
    const schedule = makeNoiseSchedule(readNoiseScheduleConfig(model, config));
    const acp = schedule.alphasCumprod.slice();
    // A zero terminal SNR schedule ends at ᾱ = 0 (σ = ∞); diffusers uses 2^-24 there.
    if (schedule.config.rescaleBetasZeroSnr) acp[acp.length - 1] = 2 ** -24;
    const trainSigmas = acp.map((a) => Math.sqrt(f32(f32(1 - a) / a)));
    return new EulerDiscreteScheduler(
      { ...schedule, alphasCumprod: acp },
      {
        predictionType: readOneOf(model, config, 'prediction_type', PREDICTION_TYPES, 'epsilon'),
        timestepSpacing: readOneOf(model, config, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace'),
        stepsOffset: readInt(model, config, 'steps_offset', 0),
        finalSigmasType: readOneOf(model, config, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero'),
      },
      trainSigmas,
    );
  }

  get alphasCumprod(): Float32Array {
    return this.schedule.alphasCumprod;
  }

  /** The (fractional, float32) timesteps of the current run, descending. */
  get timesteps(): readonly number[] {
    return this.timestepList;
  }

  /** σ per step of the current run plus a final 0 (or σ_min), float32. */
  get sigmas(): readonly number[] {
    return this.sigmaList;
  }

  /** Standard deviation of the starting noise: σ_max, or sqrt(σ_max² + 1) for 'leading' spacing. */
  get initNoiseSigma(): number {
    if (this.sigmaList.length === 0) throw new Error('EulerDiscreteScheduler: call setTimesteps(n) first');
    const maxSigma = Math.max(...this.sigmaList);
    if (this.config.timestepSpacing === 'linspace' || this.config.timestepSpacing === 'trailing') return maxSigma;
    return f32(Math.sqrt(f32(f32(maxSigma * maxSigma) + 1)));
  }

  setTimesteps(numInferenceSteps: number): readonly number[] {
    const { timestepSpacing, stepsOffset, finalSigmasType } = this.config;
    const timesteps = spacedTimesteps(timestepSpacing, this.schedule.config.numTrainTimesteps, numInferenceSteps, stepsOffset, false);
    const sigmas = timesteps.map((t) => f32(interpolate(this.trainSigmas, t)));
    const acp0 = this.schedule.alphasCumprod[0];
    sigmas.push(finalSigmasType === 'zero' ? 0 : f32(Math.sqrt(f32(f32(1 - acp0) / acp0))));
    this.timestepList = timesteps;
    this.sigmaList = sigmas;
    return timesteps;
  }

  /** x / sqrt(σ² + 1): the model sees unit-variance input. Returns a new tensor. */
  scaleModelInput(sample: tf.Tensor, timestep: number): tf.Tensor {
    const sigma = this.sigmaList[this.stepIndex(timestep)];
    return tf.tidy(() => tf.div(sample, f32(Math.sqrt(f32(f32(sigma * sigma) + 1)))));
  }

  /** One Euler step from σ_i to σ_{i+1} (Karras et al. 2022, Algorithm 2, lines 3-8 with γ = 0). Inputs are not disposed. */
  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor): SchedulerStep {
    const i = this.stepIndex(timestep);
    const sigma = this.sigmaList[i];
    const dt = f32(this.sigmaList[i + 1] - sigma);
    return tf.tidy(() => {
      // 1. The denoised estimate D(x; σ) from the model output.
      let predOriginalSample: tf.Tensor;
      if (this.config.predictionType === 'epsilon') {
        predOriginalSample = tf.sub(sample, tf.mul(modelOutput, sigma));
      } else if (this.config.predictionType === 'v_prediction') {
        // x_0 = -σ/sqrt(σ²+1) v + x/(σ²+1) (v-prediction in the σ parameterisation).
        const sigmaSq1 = f32(f32(sigma * sigma) + 1);
        predOriginalSample = tf.add(tf.mul(modelOutput, f32(-sigma / f32(Math.sqrt(sigmaSq1)))), tf.div(sample, sigmaSq1));
      } else {
        predOriginalSample = tf.clone(modelOutput);
      }
      // 2. The ODE derivative d = (x - D(x; σ)) / σ (eq. 3 / Algorithm 2, line 5).
      const derivative = tf.div(tf.sub(sample, predOriginalSample), sigma);
      // 3. Euler step x_{i+1} = x_i + (σ_{i+1} - σ_i) d (Algorithm 2, line 6).
      const prevSample = tf.add(sample, tf.mul(derivative, dt));
      return { prevSample, predOriginalSample };
    });
  }

  private stepIndex(timestep: number): number {
    const i = this.timestepList.indexOf(timestep);
    if (i < 0) throw new RangeError(`EulerDiscreteScheduler: timestep ${timestep} is not one of this run's timesteps (call setTimesteps first)`);
    return i;
  }
}

/** np.interp(x, arange(len(values)), values): linear interpolation between integer positions. */
function interpolate(values: Float32Array, x: number): number {
  if (x <= 0) return values[0];
  const last = values.length - 1;
  if (x >= last) return values[last];
  const j = Math.floor(x);
  const slope = values[j + 1] - values[j];
  return slope * (x - j) + values[j];
}
