/**
 * DDIM sampling with η = 0 (Song et al. 2020, "Denoising Diffusion Implicit Models"), as
 * diffusers' DDIMScheduler computes it. Built from a diffusers scheduler config the way
 * `DDIMScheduler.from_config(config)` reads it.
 *
 * Notation (code → paper): alphaProd = α_t (ᾱ_t in DDPM's notation), predOriginalSample = the
 * "predicted x_0" of eq. (12), predEpsilon = ε_θ(x_t), prevSample = x_{t-1}.
 */
import * as tf from '../../gpu/tf';
import { type NoiseSchedule, type PredictionType, type TimestepSpacing, PREDICTION_TYPES, TIMESTEP_SPACINGS, makeNoiseSchedule, readNoiseScheduleConfig, spacedTimesteps } from './noise-schedule';
import { type Json, readBool, readInt, readNumber, readOneOf, rejectUnless } from '../config';

const f32 = Math.fround;

export interface DdimConfig {
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
}

export interface SchedulerStep {
  prevSample: tf.Tensor;
  predOriginalSample: tf.Tensor;
}

export class DdimScheduler {
  /** DDIM starts from unit-variance noise. */
  readonly initNoiseSigma = 1;
  private numInferenceSteps = 0;
  private timestepList: number[] = [];

  private constructor(
    readonly schedule: NoiseSchedule,
    readonly config: DdimConfig,
  ) {}

  static fromConfig(config: Json): DdimScheduler {
    const model = 'DDIMScheduler';
    rejectUnless(model, config, 'thresholding', [false]);
    return new DdimScheduler(makeNoiseSchedule(readNoiseScheduleConfig(model, config)), {
      predictionType: readOneOf(model, config, 'prediction_type', PREDICTION_TYPES, 'epsilon'),
      timestepSpacing: readOneOf(model, config, 'timestep_spacing', TIMESTEP_SPACINGS, 'leading'),
      stepsOffset: readInt(model, config, 'steps_offset', 0),
      setAlphaToOne: readBool(model, config, 'set_alpha_to_one', true),
      clipSample: readBool(model, config, 'clip_sample', true),
      clipSampleRange: readNumber(model, config, 'clip_sample_range', 1),
    });
  }

  get alphasCumprod(): Float32Array {
    return this.schedule.alphasCumprod;
  }

  /** The integer timesteps of the current run, descending; empty before setTimesteps. */
  get timesteps(): readonly number[] {
    return this.timestepList;
  }

  setTimesteps(numInferenceSteps: number): readonly number[] {
    const { timestepSpacing, stepsOffset } = this.config;
    this.timestepList = spacedTimesteps(timestepSpacing, this.schedule.config.numTrainTimesteps, numInferenceSteps, stepsOffset, true);
    this.numInferenceSteps = numInferenceSteps;
    return this.timestepList;
  }

  /** DDIM does not scale its input; returns a new handle so the caller always owns the result. */
  scaleModelInput(sample: tf.Tensor, _timestep?: number): tf.Tensor {
    return tf.clone(sample);
  }

  /** One deterministic DDIM step x_t → x_{t-1} (eq. 12 with σ_t = 0). Inputs are not disposed. */
  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor): SchedulerStep {
    if (this.numInferenceSteps === 0) throw new Error('DDIMScheduler: call setTimesteps(n) before step()');
    const acp = this.schedule.alphasCumprod;
    const { numTrainTimesteps } = this.schedule.config;
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= numTrainTimesteps) {
      throw new RangeError(`DDIMScheduler: timestep ${timestep} must be an integer from 0 to ${numTrainTimesteps - 1}`);
    }

    // 1. The previous timestep (diffusers uses N // n for every spacing).
    const prevTimestep = timestep - Math.floor(numTrainTimesteps / this.numInferenceSteps);

    // 2. α_t and α_{t-1}; past the end, α_{t-1} is 1 or α_0 (set_alpha_to_one).
    const alphaProd = acp[timestep];
    const alphaProdPrev = prevTimestep >= 0 ? acp[prevTimestep] : this.config.setAlphaToOne ? 1 : acp[0];
    const sqrtAlpha = f32(Math.sqrt(alphaProd));
    const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProd)));

    return tf.tidy(() => {
      // 3. Predicted x_0 of eq. (12): (x_t - sqrt(1-α_t) ε) / sqrt(α_t), and the ε it implies.
      let predOriginalSample: tf.Tensor;
      let predEpsilon: tf.Tensor;
      if (this.config.predictionType === 'epsilon') {
        predOriginalSample = tf.div(tf.sub(sample, tf.mul(modelOutput, sqrtBeta)), sqrtAlpha);
        predEpsilon = modelOutput;
      } else if (this.config.predictionType === 'v_prediction') {
        // v = sqrt(α_t) ε - sqrt(1-α_t) x_0 (Salimans & Ho 2022, section 4).
        predOriginalSample = tf.sub(tf.mul(sample, sqrtAlpha), tf.mul(modelOutput, sqrtBeta));
        predEpsilon = tf.add(tf.mul(modelOutput, sqrtAlpha), tf.mul(sample, sqrtBeta));
      } else {
        predOriginalSample = modelOutput;
        predEpsilon = tf.div(tf.sub(sample, tf.mul(modelOutput, sqrtAlpha)), sqrtBeta);
      }

      // 4. Optional clipping of x_0 (not applied to ε, as in diffusers).
      if (this.config.clipSample) {
        predOriginalSample = tf.clipByValue(predOriginalSample, -this.config.clipSampleRange, this.config.clipSampleRange);
      }

      // 5. With η = 0, σ_t of eq. (16) is 0: the direction pointing to x_t is sqrt(1 - α_{t-1}) ε.
      const direction = tf.mul(predEpsilon, f32(Math.sqrt(f32(1 - alphaProdPrev))));

      // 6. x_{t-1} = sqrt(α_{t-1}) x_0 + direction (eq. 12, no random noise).
      const prevSample = tf.add(tf.mul(predOriginalSample, f32(Math.sqrt(alphaProdPrev))), direction);
      return { prevSample, predOriginalSample: predOriginalSample === modelOutput ? tf.clone(modelOutput) : predOriginalSample };
    });
  }
}
