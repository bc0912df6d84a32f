import { describe, expect, it } from 'vitest';
import * as tf from '../../gpu/tf';
import { expectClose, expectNoLeaks, onBackend } from '../../test/compare';
import { golden, goldenJson, goldenRow, readFixtureJson } from '../../test/golden';
import { EulerDiscreteScheduler } from './euler';

const fixtureConfig = readFixtureJson('tiny-sd/scheduler/scheduler_config.json');

function tensorOf(name: string, row?: number): tf.Tensor {
  const t = row === undefined ? golden(name) : goldenRow(name, row);
  return tf.tensor(Float32Array.from(t.data), t.shape);
}

describe('EulerDiscreteScheduler', () => {
  it('timesteps, sigmas and init_noise_sigma of the SD 1.5 config (linspace spacing)', () => {
    const euler = EulerDiscreteScheduler.fromConfig(fixtureConfig);
    expect(euler.setTimesteps(10)).toEqual(Array.from(golden('sched.euler.timesteps').data));
    expectClose(euler.sigmas, golden('sched.euler.sigmas').data, 1e-5, 'sigmas');
    expectClose([euler.initNoiseSigma], golden('sched.euler.init_noise_sigma').data, 1e-6, 'init_noise_sigma');
    expect(euler.initNoiseSigma).toBeCloseTo(goldenJson().euler_init_noise_sigma, 5);
  });

  it('10-step chain matches diffusers (scaled inputs, prev_sample, pred_original_sample) on WebGPU without leaks', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const euler = EulerDiscreteScheduler.fromConfig(fixtureConfig);
        const timesteps = euler.setTimesteps(10);
        const sample0 = tensorOf('sched.sample0');
        let sample = tf.mul(sample0, euler.initNoiseSigma);
        sample0.dispose();
        for (const [i, t] of timesteps.entries()) {
          const scaled = euler.scaleModelInput(sample, t);
          expectClose(await scaled.data(), goldenRow('sched.euler.scaled_inputs', i).data, 1e-5, `scaled input ${i}`);
          const modelOutput = tensorOf('sched.model_outputs', i);
          const { prevSample, predOriginalSample } = euler.step(modelOutput, t, sample);
          expectClose(await prevSample.data(), goldenRow('sched.euler.prev_samples', i).data, 1e-5, `prev_sample ${i}`);
          expectClose(await predOriginalSample.data(), goldenRow('sched.euler.pred_original_samples', i).data, 1e-5, `pred_original_sample ${i}`);
          tf.dispose([scaled, modelOutput, sample, predOriginalSample]);
          sample = prevSample;
        }
        sample.dispose();
      }),
    );
  });

  it('leading and trailing spacings; init_noise_sigma for leading is sqrt(σ_max² + 1)', () => {
    const leading = EulerDiscreteScheduler.fromConfig({ ...fixtureConfig, timestep_spacing: 'leading' });
    expect(leading.setTimesteps(4)).toEqual([751, 501, 251, 1]);
    const sigmaMax = Math.max(...leading.sigmas);
    expect(leading.initNoiseSigma).toBeCloseTo(Math.sqrt(sigmaMax ** 2 + 1), 5);
    const trailing = EulerDiscreteScheduler.fromConfig({ ...fixtureConfig, timestep_spacing: 'trailing' });
    expect(trailing.setTimesteps(4)).toEqual([999, 749, 499, 249]);
    expect(trailing.initNoiseSigma).toBe(Math.max(...trailing.sigmas));
    // σ at integer timesteps is sqrt((1 - ᾱ_t) / ᾱ_t).
    const acp = trailing.alphasCumprod[749];
    expect(trailing.sigmas[1]).toBeCloseTo(Math.sqrt((1 - acp) / acp), 5);
    expect(trailing.sigmas[4]).toBe(0);
  });

  it('v_prediction: recovers x_0 from v at σ', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const euler = EulerDiscreteScheduler.fromConfig({ ...fixtureConfig, prediction_type: 'v_prediction' });
        const [t] = euler.setTimesteps(4);
        const sigma = euler.sigmas[0];
        const x0 = tensorOf('sched.ddpm.x0');
        const eps = tensorOf('sched.ddpm.noise');
        // x = x_0 + σ ε; in DDPM terms z = x / sqrt(σ²+1) and v = α ε - s x_0 with α = 1/sqrt(σ²+1), s = σ α.
        const alpha = 1 / Math.sqrt(sigma * sigma + 1);
        const x = tf.tidy(() => tf.add(x0, tf.mul(eps, sigma)));
        const v = tf.tidy(() => tf.sub(tf.mul(eps, alpha), tf.mul(x0, sigma * alpha)));
        const { prevSample, predOriginalSample } = euler.step(v, t, x);
        expectClose(await predOriginalSample.data(), await x0.data(), 1e-5, 'pred_original_sample');
        tf.dispose([x0, eps, x, v, prevSample, predOriginalSample]);
      }),
    );
  });

  it('a timestep outside the run fails with a message', () => {
    const euler = EulerDiscreteScheduler.fromConfig(fixtureConfig);
    euler.setTimesteps(10);
    const x = tf.zeros([1, 4, 2, 2]);
    expect(() => euler.scaleModelInput(x, 500)).toThrow(/timestep 500/);
    x.dispose();
  });
});
