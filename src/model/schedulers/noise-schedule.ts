/**
 * The training noise schedule every diffusers scheduler shares: betas, alphas_cumprod, and the
 * inference timestep spacings. Computed on the host in float32 exactly as torch does (linspace
 * with one rounding per value, cumprod accumulated in float64 and stored as float32), so
 * alphas_cumprod matches diffusers bit for bit.
 *
 * Config parsing follows diffusers' `from_config`: each scheduler reads only the keys its
 * constructor takes, missing keys get that constructor's defaults, unknown keys are ignored.
 */
import { ConfigError, readBool, readInt, readNumber, readOneOf, type Json } from '../config';


export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;
export type BetaSchedule = (typeof BETA_SCHEDULES)[number];

export const PREDICTION_TYPES = ['epsilon', 'v_prediction', 'sample'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

export const TIMESTEP_SPACINGS = ['leading', 'trailing', 'linspace'] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

export interface NoiseScheduleConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: number[] | null;
  rescaleBetasZeroSnr: boolean;
}

export interface NoiseSchedule {
  config: NoiseScheduleConfig;
  betas: Float32Array;
  alphasCumprod: Float32Array;
}

const f32 = Math.fround;

/** The schedule keys, with the defaults DDPMScheduler, DDIMScheduler and EulerDiscreteScheduler share. */
export function readNoiseScheduleConfig(model: string, c: Json): NoiseScheduleConfig {
  const trained = c.trained_betas ?? null;
  if (trained !== null && !(Array.isArray(trained) && trained.every((b) => typeof b === 'number'))) {
    throw new ConfigError(model, 'trained_betas', trained, 'null or a list of numbers');
  }
  const config: NoiseScheduleConfig = {
    numTrainTimesteps: readInt(model, c, 'num_train_timesteps', 1000, 1),
    betaStart: readNumber(model, c, 'beta_start', 0.0001),
    betaEnd: readNumber(model, c, 'beta_end', 0.02),
    betaSchedule: readOneOf(model, c, 'beta_schedule', BETA_SCHEDULES, 'linear'),
    trainedBetas: trained as number[] | null,
    rescaleBetasZeroSnr: readBool(model, c, 'rescale_betas_zero_snr', false),
  };
  if (config.trainedBetas && config.trainedBetas.length !== config.numTrainTimesteps) {
    throw new ConfigError(model, 'trained_betas', `${config.trainedBetas.length} values`, `num_train_timesteps = ${config.numTrainTimesteps} values`);
  }
  return config;
}

// ------------------------------------------------------------------------------------------------
// Betas and alphas_cumprod

/** torch.linspace(start, end, n, dtype=float32): start + step*i for the first half, end - step*(n-1-i) after. */
export function linspaceF32(start: number, end: number, n: number): Float32Array {
  const s = f32(start);
  const e = f32(end);
  const step = n > 1 ? f32((e - s) / (n - 1)) : 0;
  const out = new Float32Array(n);
  const halfway = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < halfway ? s + step * i : e - step * (n - 1 - i);
  return out;
}

/** Glide's cosine schedule (Nichol & Dhariwal 2021, eq. 17), betas clipped at 0.999; float64 then float32. */
function cosineBetas(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const betas = new Float32Array(n);
  for (let i = 0; i < n; i++) betas[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  return betas;
}

/** torch.cumprod on CPU: accumulates in float64, stores float32. */
function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) out[i] = acc *= values[i];
  return out;
}

function alphasOf(betas: Float32Array): Float32Array {
  return betas.map((b) => f32(1 - b));
}

/** Zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1). */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const sqrtAcp = cumprodF32(alphasOf(betas)).map((a) => Math.sqrt(a));
  const first = sqrtAcp[0];
  const last = sqrtAcp[sqrtAcp.length - 1];
  const scale = f32(first / f32(first - last));
  const acp = sqrtAcp.map((s) => f32(f32(s - last) * scale) ** 2);
  return acp.map((a, i) => f32(1 - (i === 0 ? a : f32(a / acp[i - 1]))));
}

export function makeNoiseSchedule(config: NoiseScheduleConfig): NoiseSchedule {
  const n = config.numTrainTimesteps;
  let betas: Float32Array;
  if (config.trainedBetas) {
    betas = Float32Array.from(config.trainedBetas);
  } else if (config.betaSchedule === 'linear') {
    betas = linspaceF32(config.betaStart, config.betaEnd, n);
  } else if (config.betaSchedule === 'scaled_linear') {
    // Latent diffusion's schedule: linspace in sqrt(beta), squared.
    betas = linspaceF32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n).map((b) => b * b);
  } else {
    betas = cosineBetas(n);
  }
  if (config.rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);
  return { config, betas, alphasCumprod: cumprodF32(alphasOf(betas)) };
}

// ------------------------------------------------------------------------------------------------
// Inference timesteps

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The timesteps of an n-step run, descending, as diffusers' `set_timesteps` spaces them (see
 * Lin et al. 2023, Table 2): 'linspace' spreads n values over [0, N-1] (rounded to integers
 * when `round`), 'leading' takes multiples of N // n plus steps_offset, 'trailing' counts down
 * from N - 1 in steps of N / n.
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  n: number,
  stepsOffset: number,
  roundLinspace: boolean,
): number[] {
  const N = numTrainTimesteps;
  if (!Number.isInteger(n) || n < 1 || n > N) {
    throw new RangeError(`num_inference_steps = ${n} must be an integer from 1 to num_train_timesteps = ${N}`);
  }
  const out: number[] = [];
  if (spacing === 'linspace') {
    // np.linspace(0, N-1, n): i * step, the last value exactly N-1.
    const step = n > 1 ? (N - 1) / (n - 1) : 0;
    for (let i = 0; i < n; i++) {
      const v = i === n - 1 && n > 1 ? N - 1 : i * step;
      out.push(roundLinspace ? roundHalfEven(v) : f32(v));
    }
  } else if (spacing === 'leading') {
    const ratio = Math.floor(N / n);
    for (let i = 0; i < n; i++) out.push(i * ratio + stepsOffset);
  } else {
    // np.round(np.arange(N, 0, -N/n)) - 1, ascending here.
    const ratio = N / n;
    const count = Math.ceil(N / ratio);
    for (let i = count - 1; i >= 0; i--) out.push(roundHalfEven(N - i * ratio) - 1);
  }
  return out.reverse();
}
