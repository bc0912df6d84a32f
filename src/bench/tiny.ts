/**
 * `npm run measure:tiny`: seconds per UNet step (batch 2, as CFG runs it) and per full 4-step
 * 64×64 image on the tiny-sd fixture, and ms from a cancel to an idle GPU mid-image, on real
 * WebGPU. One JSON line per measurement.
 */
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(): Promise<number> {
  const { device, capabilities } = await startNodeWebGpu();
  const tf = await import('../gpu/tf');
  const { flushGpu } = await import('../gpu/tf-backend');
  const { loadStableDiffusion } = await import('../model/load');
  const { CancelledError, textToImage } = await import('../model/pipeline');
  const { ClipTokenizer } = await import('../model/tokenizer');
  const { unetForward } = await import('../model/unet');
  const { nodeFolderSource } = await import('../model/sources/node-folder');
  const { randomNormal } = await import('../common/random');
  const print = (o: object) => console.log(JSON.stringify({ ...o, adapter: capabilities.adapter.description || capabilities.adapter.vendor }));

  const model = await loadStableDiffusion(nodeFolderSource(new URL('../test/fixtures/tiny-sd', import.meta.url).pathname));
  const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  for (const size of [8, 32]) {
    const dim = model.unet.config.crossAttentionDim;
    const sample = tf.tensor4d(randomNormal(2 * 4 * size * size, 1), [2, 4, size, size]);
    const context = tf.tensor3d(randomNormal(2 * 77 * dim, 2), [2, 77, dim]);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const start = performance.now();
      const out = unetForward(model.unet.weights, model.unet.config, { sample, timesteps: [500, 500], encoderHiddenStates: context });
      await flushGpu();
      times.push(performance.now() - start);
      out.dispose();
    }
    print({ name: `tiny/unet-step-${size}x${size}`, batch: 2, seconds: Number((median(times.slice(1)) / 1000).toFixed(3)), first_call_seconds: Number((times[0] / 1000).toFixed(3)) });
    tf.dispose([sample, context]);
  }

  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await textToImage(model, tokenizer, { prompt: 'a photo of an astronaut riding a horse on mars', steps: 4, width: 64, height: 64, seed: i });
    times.push(performance.now() - start);
  }
  print({ name: 'tiny/image-4-steps-64x64', seconds: Number((median(times.slice(1)) / 1000).toFixed(3)), first_call_seconds: Number((times[0] / 1000).toFixed(3)) });

  // Cancel latency: a cancel arriving as a task (as the page's click does) during step 2 of a
  // 256×256 image, to the rejection and the GPU idle.
  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const controller = new AbortController();
    let abortedAt = 0;
    const run = textToImage(model, tokenizer, { prompt: 'a red circle', steps: 20, width: 256, height: 256, seed: i }, {
      signal: controller.signal,
      onStep: ({ step }) => {
        if (step === 1) setTimeout(() => ((abortedAt = performance.now()), controller.abort()), 0);
      },
    });
    await run.then(
      () => Promise.reject(new Error('the cancelled image finished')),
      (error) => (error instanceof CancelledError ? undefined : Promise.reject(error)),
    );
    await flushGpu();
    latencies.push(performance.now() - abortedAt);
  }
  print({ name: 'tiny/cancel-to-idle-256x256', ms: Math.round(median(latencies)), max_ms: Math.round(Math.max(...latencies)) });
  model.dispose();
  device.destroy();
  return 0;
}
