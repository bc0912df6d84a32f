import { describe, expect, it } from 'vitest';
import * as tf from '../../gpu/tf';
import { expectClose, expectNoLeaks, onBackend } from '../../test/compare';
import { golden, goldenJson, goldenRow, readFixtureJson } from '../../test/golden';
import { DdimScheduler } from './ddim';

const fixtureConfig = readFixtureJson('tiny-sd/scheduler/scheduler_config.json');

function tensorOf(name: string, row?: number): tf.Tensor {
  const t = row === undefined ? golden(name) : goldenRow(name, row);
  return tf.tensor(Float32Array.from(t.data), t.shape);
}

describe('DDIMScheduler', () => {
  it('timesteps of the SD 1.5 config (leading spacing, steps_offset 1)', () => {
    const ddim = DdimScheduler.fromConfig(fixtureConfig);
    expect(ddim.setTimesteps(10)).toEqual(golden('sched.ddim.timesteps').data);
    expect(ddim.setTimesteps(goldenJson().pipeline.num_inference_steps)).toEqual(golden('pipe.timesteps').data);
    expect(ddim.initNoiseSigma).toBe(1);
  });

  it('10-step chain matches diffusers (prev_sample and pred_original_sample) on WebGPU without leaks', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const ddim = DdimScheduler.fromConfig(fixtureConfig);
        const timesteps = ddim.setTimesteps(10);
        let sample = tensorOf('sched.sample0');
        for (const [i, t] of timesteps.entries()) {
          const modelOutput = tensorOf('sched.model_outputs', i);
          const { prevSample, predOriginalSample } = ddim.step(modelOutput, t, sample);
          expectClose(await prevSample.data(), goldenRow('sched.ddim.prev_samples', i).data, 1e-5, `prev_sample ${i}`);
          expectClose(await predOriginalSample.data(), goldenRow('sched.ddim.pred_original_samples', i).data, 1e-5, `pred_original_sample ${i}`);
          tf.dispose([modelOutput, sample, predOriginalSample]);
          sample = prevSample;
        }
        sample.dispose();
      }),
    );
  });

  it('epsilon, v_prediction and sample parameterisations give the same step for the same x_0 and ε', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const x0 = tensorOf('sched.ddpm.x0');
        const eps = tensorOf('sched.ddpm.noise');
        for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
          const ddim = DdimScheduler.fromConfig({ ...fixtureConfig, prediction_type: predictionType });
          const [t] = ddim.setTimesteps(4);
          const a = ddim.alphasCumprod[t];
          const aPrev = ddim.alphasCumprod[t - 250];
          const xt = tf.tidy(() => tf.add(tf.mul(x0, Math.sqrt(a)), tf.mul(eps, Math.sqrt(1 - a))));
          // v = sqrt(α_t) ε - sqrt(1-α_t) x_0 (Salimans & Ho 2022).
          const modelOutput = tf.tidy(() =>
            predictionType === 'epsilon' ? tf.clone(eps) : predictionType === 'sample' ? tf.clone(x0) : tf.sub(tf.mul(eps, Math.sqrt(a)), tf.mul(x0, Math.sqrt(1 - a))),
          );
          const expectedPrev = tf.tidy(() => tf.add(tf.mul(x0, Math.sqrt(aPrev)), tf.mul(eps, Math.sqrt(1 - aPrev))));
          const { prevSample, predOriginalSample } = ddim.step(modelOutput, t, xt);
          expectClose(await predOriginalSample.data(), await x0.data(), 1e-5, `${predictionType} pred_original_sample`);
          expectClose(await prevSample.data(), await expectedPrev.data(), 1e-5, `${predictionType} prev_sample`);
          tf.dispose([xt, modelOutput, expectedPrev, prevSample, predOriginalSample]);
        }
        tf.dispose([x0, eps]);
      }),
    );
  });

  it('trailing and linspace spacings', () => {
    const trailing = DdimScheduler.fromConfig({ ...fixtureConfig, timestep_spacing: 'trailing' });
    expect(trailing.setTimesteps(4)).toEqual([999, 749, 499, 249]);
    const linspace = DdimScheduler.fromConfig({ ...fixtureConfig, timestep_spacing: 'linspace' });
    expect(linspace.setTimesteps(4)).toEqual([999, 666, 333, 0]);
  });

  it('set_alpha_to_one: the last step lands on the predicted x_0', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const ddim = DdimScheduler.fromConfig({ ...fixtureConfig, set_alpha_to_one: true });
        const timesteps = ddim.setTimesteps(10);
        const sample = tensorOf('sched.sample0');
        const modelOutput = tensorOf('sched.model_outputs', 9);
        const { prevSample, predOriginalSample } = ddim.step(modelOutput, timesteps[9], sample);
        expect(await prevSample.data()).toEqual(await predOriginalSample.data());
        tf.dispose([sample, modelOutput, prevSample, predOriginalSample]);
      }),
    );
  });

  it('step before setTimesteps fails with a message', () => {
    const ddim = DdimScheduler.fromConfig(fixtureConfig);
    const x = tf.zeros([1, 4, 2, 2]);
    expect(() => ddim.step(x, 1, x)).toThrow(/setTimesteps/);
    x.dispose();
  });
});
