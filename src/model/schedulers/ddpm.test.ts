import { describe, expect, it } from 'vitest';
import * as tf from '../../gpu/tf';
import { expectClose, expectNoLeaks, onBackend } from '../../test/compare';
import { golden, readFixtureJson } from '../../test/golden';
import { DdpmScheduler } from './ddpm';

const fixtureConfig = readFixtureJson('tiny-sd/scheduler/scheduler_config.json');

function tensorOf(name: string): tf.Tensor {
  const t = golden(name);
  return tf.tensor(Float32Array.from(t.data), t.shape);
}

describe('DDPMScheduler', () => {
  it('add_noise with batched timesteps matches diffusers on WebGPU without leaks', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const ddpm = DdpmScheduler.fromConfig(fixtureConfig);
        const x0 = tensorOf('sched.ddpm.x0');
        const noise = tensorOf('sched.ddpm.noise');
        const noisy = ddpm.addNoise(x0, noise, golden('sched.ddpm.t').data);
        expectClose(await noisy.data(), golden('sched.ddpm.noisy').data, 1e-5, 'noisy');
        tf.dispose([x0, noise, noisy]);
      }),
    );
  });

  it('add_noise of the textual-inversion golden (t = 500) and its gradients', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const ddpm = DdpmScheduler.fromConfig(fixtureConfig);
        const z0 = tensorOf('ti.z0');
        const noise = tensorOf('ti.noise');
        const noisy = ddpm.addNoise(z0, noise, golden('ti.timestep').data);
        expectClose(await noisy.data(), golden('ti.noisy_latents').data, 1e-5, 'noisy latents');
        const [dz0, dNoise] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(ddpm.addNoise(a, b, [500])))([z0, noise]);
        const acp = ddpm.alphasCumprod[500];
        expectClose((await dz0.data()).slice(0, 3), [Math.sqrt(acp), Math.sqrt(acp), Math.sqrt(acp)], 1e-6, 'd/dx0');
        expectClose((await dNoise.data()).slice(0, 3), Array(3).fill(Math.sqrt(1 - acp)), 1e-6, 'd/dnoise');
        tf.dispose([z0, noise, noisy, dz0, dNoise]);
      }),
    );
  });

  it('v-prediction target and training targets', async () => {
    await onBackend('webgpu', () =>
      expectNoLeaks(async () => {
        const x0 = tensorOf('sched.ddpm.x0');
        const noise = tensorOf('sched.ddpm.noise');
        const t = golden('sched.ddpm.t').data;
        const vPred = DdpmScheduler.fromConfig({ ...fixtureConfig, prediction_type: 'v_prediction' });
        const v = vPred.trainingTarget(x0, noise, t);
        const [x0v, noisev, vv] = await Promise.all([x0.data(), noise.data(), v.data()]);
        const perItem = x0v.length / 3;
        const expected = x0v.map((x, i) => {
          const acp = vPred.alphasCumprod[t[Math.floor(i / perItem)]];
          return Math.sqrt(acp) * noisev[i] - Math.sqrt(1 - acp) * x;
        });
        expectClose(vv, expected, 1e-5, 'velocity');
        const epsTarget = DdpmScheduler.fromConfig(fixtureConfig).trainingTarget(x0, noise, t);
        expect(await epsTarget.data()).toEqual(noisev);
        tf.dispose([x0, noise, v, epsTarget]);
      }),
    );
  });

  it('rejects timesteps outside the schedule', () => {
    const ddpm = DdpmScheduler.fromConfig(fixtureConfig);
    const x = tf.zeros([1, 4, 2, 2]);
    expect(() => ddpm.addNoise(x, x, [1000])).toThrow(/timestep 1000/);
    x.dispose();
  });
});
