/**
 * `npm run measure:train [-- sd15 [PIXELS] [plain|checkpointed] [lora|both]] [pplus] [perfusion]`: training steps on real WebGPU.
 * Tiny fixture: steps/s and GPU bytes per step for TI, LoRA, both, P+ and Perfusion (its C⁻¹ over
 * the 1000 prompts timed once, apart; plain and with activation checkpointing) and DreamBooth-LoRA (its class images drawn first, timed apart: each step is
 * the photos' and as many class images'), and the live tensor count over 100 steps. With `sd15`: textual-inversion steps
 * of an SD1.5-shaped model (real configs, synthetic weights) at PIXELS (default 128, i.e. 16×16
 * latents), without and with checkpointing (or only the one named), and at 128 px also plain
 * LoRA and DreamBooth-LoRA; P+ and Perfusion at PIXELS. One JSON line per measurement.
 */
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(args: string[]): Promise<number> {
  const { device, capabilities } = await startNodeWebGpu();
  const tf = await import('../gpu/tf');
  const { flushGpu } = await import('../gpu/tf-backend');
  const { gpuAllocation, inUseAtHighWater, limitPooledFreeBytes, recordHighWaterBuffers, resetHighWater, trimBufferPool } = await import('../gpu/memory');
  const { loadStableDiffusion } = await import('../model/load');
  const { nodeFolderSource } = await import('../model/sources/node-folder');
  const { randomNormal } = await import('../common/random');
  const { Trainer } = await import('../train/trainer');
  const print = (o: object) => console.log(JSON.stringify({ ...o, adapter: capabilities.adapter.description || capabilities.adapter.vendor }));
  const fixture = new URL('../test/fixtures/tiny-sd', import.meta.url).pathname;
  const tiny = await loadStableDiffusion(nodeFolderSource(fixture));
  // `pplus` / `perfusion` among the arguments: only those methods (sd15: besides its TI rows)
  const named = args.filter((a): a is 'pplus' | 'perfusion' => a === 'pplus' || a === 'perfusion');
  // sd15: only LoRA r4 (to_k, to_v), or TI and that LoRA together, at PIXELS
  const adapterOnly = args.includes('both') ? 'both' : args.includes('lora') ? 'lora' : null;
  const poolArg = args.find((a) => a.startsWith('pool='));
  if (poolArg) limitPooledFreeBytes(Number(poolArg.slice(5)) * 2 ** 20); // pool=MB: cap the pool's free bytes
  const submitArg = args.find((a) => a.startsWith('submit='));
  if (submitArg) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(submitArg.slice(7))); // submit=N: tfjs submits every N dispatches (default 15)
  const buffers = args.includes('buffers'); // print the largest buffers in use at the step's in-use high-water

  /** Seconds per step (median after a warm-up step) and the most GPU bytes held above the start during a step. */
  /** Perfusion's C⁻¹ per model, timed once as its own line. */
  const inverses = new Map<typeof tiny, Float32Array>();
  async function covarianceOf(model: typeof tiny, name: string, promptCount: number): Promise<Float32Array> {
    if (!inverses.has(model)) {
      const { ClipTokenizer } = await import('../model/tokenizer');
      const { COVARIANCE_PROMPTS } = await import('../train/perfusion-covariance-prompts');
      const { covarianceInverse, textCovariance } = await import('../train/perfusion-covariance');
      resetHighWater();
      const before = gpuAllocation().allocated;
      const start = performance.now();
      const prompts = COVARIANCE_PROMPTS.slice(0, promptCount);
      const c = covarianceInverse(await textCovariance(model, ClipTokenizer.fromFiles(model.tokenizerFiles), prompts));
      print({ name: `${name}-perfusion-covariance`, prompts: prompts.length, seconds: Number(((performance.now() - start) / 1000).toFixed(3)), peak_bytes: gpuAllocation().highWater - before });
      inverses.set(model, c);
    }
    return inverses.get(model)!;
  }

  type Method = 'ti' | 'lora' | 'both' | 'dreambooth' | 'pplus' | 'perfusion';
  async function measure(model: typeof tiny, method: Method, resolution: number, steps: number, name: string, gradientCheckpointing = false, classImageSteps = 25) {
    const images = randomNormal(3 * 3 * resolution * resolution, 7, 0.5);
    const classImages = 2;
    const config = { method, token: '<my-thing>', classWord: 'cat', steps: steps + 1, resolution, seed: 1, gradientCheckpointing, classImages, classImageSteps };
    // SD1.5-shaped: one batch of 32 prompts (the 1000 take 31 more such batches; the step's cost does not depend on C's values)
    const deps = method === 'perfusion' ? { covarianceInverse: await covarianceOf(model, name.split('-')[0], model === tiny ? 1000 : 32) } : {};
    const trainer = Trainer.create(model, config, images, deps);
    const drawStart = performance.now();
    await trainer.drawClassImages();
    await flushGpu();
    const classImage = method === 'dreambooth' ? { seconds_per_class_image: Number(((performance.now() - drawStart) / 1000 / classImages).toFixed(3)), class_image_steps: classImageSteps } : {};
    // the studio's loop (the VAE off the GPU during steps); the first step warms up
    let before = 0;
    let start = 0;
    let peak = 0;
    let usedPeak = 0;
    const times: number[] = [];
    const tensors: number[] = [];
    await trainer.run({
      onProgress: () => {
        if (start) {
          times.push((performance.now() - start) / 1000);
          peak = Math.max(peak, gpuAllocation().highWater - before);
          usedPeak = Math.max(usedPeak, gpuAllocation().usedHighWater - before);
          tensors.push(tf.memory().numTensors);
        } else {
          trimBufferPool();
          if (buffers) recordHighWaterBuffers();
          resetHighWater();
          before = gpuAllocation().allocated;
        }
        start = performance.now();
      },
    });
    if (buffers) {
      const sizes = inUseAtHighWater();
      const mb = (n: number) => Number((n / 2 ** 20).toFixed(1));
      print({ name: `${name}-buffers-at-in-use-high-water`, count: sizes.length, total_mb: mb(sizes.reduce((a, b) => a + b, 0)), largest_mb: sizes.slice(0, 40).map(mb) });
    }
    times.sort((a, b) => a - b);
    const s = times[Math.floor(times.length / 2)];
    const vae = model.vae.weights.bytes;
    print({ name, method, resolution, checkpointing: gradientCheckpointing, ...classImage, seconds_per_step: Number(s.toFixed(3)), steps_per_second: Number((1 / s).toFixed(3)), step_peak_bytes: peak, start_bytes: before, high_water_bytes: before + peak, in_use_peak_bytes: usedPeak, vae_bytes_offloaded_during_steps: vae, live_tensors_first_last: [tensors[0], tensors.at(-1)], loss: trainer.progress().loss });
    trainer.dispose();
  }

  if (args.includes('sd15')) {
    const { makeSyntheticWeights, syntheticSd15 } = await import('./sd15-synthetic');
    const sd15 = syntheticSd15(tiny);
    if (adapterOnly) await makeSyntheticWeights(sd15); // a LoRA reads its layers' shapes before any forward
    const px = Number(args.find((a) => /^\d+$/.test(a)) ?? 128);
    const timed = px >= 256 ? 1 : 2; // one warm-up and one timed step at 256 px and above (a 512 px step takes minutes here)
    const only = args.find((a) => a === 'plain' || a === 'checkpointed');
    // naming `pplus` / `perfusion` measures only those
    if (adapterOnly) {
      const name = `train/sd15-${adapterOnly}-${px / 8}x${px / 8}`;
      if (only !== 'checkpointed') await measure(sd15, adapterOnly, px, timed, name);
      if (only !== 'plain') await measure(sd15, adapterOnly, px, timed, `${name}-checkpointed`, true);
    } else if (!named.length) {
      if (only !== 'checkpointed') await measure(sd15, 'ti', px, timed, `train/sd15-ti-${px / 8}x${px / 8}`);
      if (only !== 'plain') await measure(sd15, 'ti', px, timed, `train/sd15-ti-${px / 8}x${px / 8}-checkpointed`, true);
      if (px === 128 && !only) await measure(sd15, 'lora', px, 2, `train/sd15-lora-${px / 8}x${px / 8}`);
      if (px === 128 && !only) await measure(sd15, 'dreambooth', px, 2, `train/sd15-dreambooth-${px / 8}x${px / 8}`, false, 2);
    }
    for (const method of named.length ? named : (['pplus', 'perfusion'] as const)) if (!only && !adapterOnly) await measure(sd15, method, px, 1, `train/sd15-${method}-${px / 8}x${px / 8}`);
    print({ name: 'train/sd15-weights', bytes: sd15.bytes, unet_bytes: sd15.unet.weights.bytes, text_encoder_bytes: sd15.text.weights.bytes, vae_bytes: sd15.vae.weights.bytes });
    sd15.dispose();
  } else {
    const methods = named.length ? named : (['ti', 'lora', 'both', 'dreambooth', 'pplus', 'perfusion'] as const);
    for (const method of methods) await measure(tiny, method, 64, 10, `train/tiny-${method}-64px`);
    for (const method of methods) await measure(tiny, method, 64, 10, `train/tiny-${method}-64px-checkpointed`, true);
    if (!named.length) await measure(tiny, 'both', 64, 100, 'train/tiny-both-64px-100-steps');
  }
  tiny.dispose();
  device.destroy();
  return 0;
}
