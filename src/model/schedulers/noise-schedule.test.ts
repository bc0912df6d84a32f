import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/compare';
import { golden, goldenJson, readFixtureJson } from '../../test/golden';
import { DdimScheduler } from './ddim';
import { DdpmScheduler } from './ddpm';
import { EulerDiscreteScheduler } from './euler';
import { makeNoiseSchedule, readNoiseScheduleConfig, roundHalfEven, spacedTimesteps } from './noise-schedule';

const fixtureConfig = readFixtureJson('tiny-sd/scheduler/scheduler_config.json');

describe('noise schedule', () => {
  it('scaled_linear alphas_cumprod of the SD 1.5 config equals diffusers', () => {
    const expected = golden('sched.alphas_cumprod').data;
    for (const scheduler of [DdpmScheduler, DdimScheduler, EulerDiscreteScheduler]) {
      const acp = scheduler.fromConfig(fixtureConfig).alphasCumprod;
      expectClose(acp, expected, 1e-5, 'alphas_cumprod');
      // Computed like torch (one rounding per linspace value, float64 cumprod): bit-exact.
      expect(Array.from(acp)).toEqual(Array.from(expected));
    }
  });

  it('the fixture config is the one the goldens were made from', () => {
    expect(goldenJson().scheduler_config).toEqual(fixtureConfig);
  });

  it('linear and squaredcos_cap_v2 schedules (values from numpy/torch formulas)', () => {
    const linear = makeNoiseSchedule(readNoiseScheduleConfig('test', { beta_schedule: 'linear' }));
    expect(linear.betas[0]).toBe(Math.fround(0.0001));
    expect(linear.betas[999]).toBe(Math.fround(0.02));
    expectClose([linear.alphasCumprod[0], linear.alphasCumprod[500], linear.alphasCumprod[999]], [0.9999, 0.07779666, 4.03583e-5], 1e-6);

    const cosine = makeNoiseSchedule(readNoiseScheduleConfig('test', { beta_schedule: 'squaredcos_cap_v2' }));
    expectClose([cosine.betas[0], cosine.betas[500], cosine.betas[999]], [4.1284224e-5, 0.0031556915, 0.999], 1e-6);
    expect(cosine.alphasCumprod[500]).toBeCloseTo(0.49228504, 6);
  });

  it('trained_betas and rescale_betas_zero_snr', () => {
    const trained = makeNoiseSchedule(readNoiseScheduleConfig('test', { num_train_timesteps: 3, trained_betas: [0.1, 0.2, 0.5] }));
    expectClose(trained.alphasCumprod, [0.9, 0.72, 0.36], 1e-6);
    const rescaled = makeNoiseSchedule(readNoiseScheduleConfig('test', { ...fixtureConfig, rescale_betas_zero_snr: true }));
    expect(rescaled.alphasCumprod[999]).toBe(0); // zero terminal SNR
    expect(rescaled.alphasCumprod[0]).toBeCloseTo(golden('sched.alphas_cumprod').data[0], 6);
  });

  it('timestep spacings follow diffusers', () => {
    expect(roundHalfEven(166.5)).toBe(166);
    expect(roundHalfEven(499.5)).toBe(500);
    expect(roundHalfEven(-0.5)).toBe(-0);
    expect(spacedTimesteps('leading', 1000, 10, 1, true)).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(spacedTimesteps('trailing', 1000, 3, 0, true)).toEqual([999, 666, 332]);
    expect(spacedTimesteps('trailing', 1000, 7, 0, true).slice(-3)).toEqual([428, 285, 142]);
    expect(spacedTimesteps('linspace', 1000, 7, 0, true)).toEqual([999, 832, 666, 500, 333, 166, 0]);
    expect(spacedTimesteps('linspace', 1000, 7, 0, false)).toEqual([999, 832.5, 666, 499.5, 333, 166.5, 0]);
    expect(() => spacedTimesteps('leading', 1000, 1001, 0, true)).toThrow(/num_inference_steps = 1001/);
  });

  it('config errors name the field and value', () => {
    expect(() => DdimScheduler.fromConfig({ ...fixtureConfig, beta_schedule: 'cubic' })).toThrow(/beta_schedule = "cubic"/);
    expect(() => EulerDiscreteScheduler.fromConfig({ ...fixtureConfig, prediction_type: 'flow' })).toThrow(/prediction_type = "flow"/);
    expect(() => DdpmScheduler.fromConfig({ ...fixtureConfig, num_train_timesteps: 0 })).toThrow(/num_train_timesteps = 0/);
    expect(() => DdimScheduler.fromConfig({ ...fixtureConfig, timestep_spacing: 'karras' })).toThrow(/timestep_spacing = "karras"/);
    expect(() => DdimScheduler.fromConfig({ ...fixtureConfig, thresholding: true })).toThrow(/thresholding = true/);
    expect(() => EulerDiscreteScheduler.fromConfig({ ...fixtureConfig, use_karras_sigmas: true })).toThrow(/use_karras_sigmas = true/);
    expect(() => EulerDiscreteScheduler.fromConfig({ ...fixtureConfig, interpolation_type: 'log_linear' })).toThrow(/interpolation_type = "log_linear"/);
  });
});
