/**
 * `npm run measure:sd15 [-- f16|f32] [-- 16,32] [-- steps=3]`: an SD1.5-shaped model (real configs,
 * synthetic weights) on real WebGPU: GPU bytes of UNet + CLIP text encoder + VAE decoder once
 * loaded; per latent size up to 32 the peak GPU bytes and the time of one UNet forward (batch 2,
 * as CFG runs it, all in one tidy); then per latent size the studio's generation of one image
 * (`textToImage`, a few steps): each step's time and high-water above the weights, and the decode's
 * (not drawn where the engine would refuse the size: the decode's buffers over the binding limit).
 * First, CLIP's token table alone: its GPU high-water from creation to the first gather (made up,
 * and with f16 also loaded from an F16 safetensors file), which shows no fp32 copy is made.
 * One JSON line per measurement.
 */
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(args: string[]): Promise<number> {
  const { device, capabilities } = await startNodeWebGpu();
  const precision = (args.find((a) => a === 'f16' || a === 'f32') ?? 'f16') as 'f16' | 'f32';
  const sizes = (args.find((a) => /^\d+(,\d+)*$/.test(a)) ?? '16').split(',').map(Number);
  const tf = await import('../gpu/tf');
  const { flushGpu } = await import('../gpu/tf-backend');
  const { measureGpuMemory } = await import('../gpu/memory');
  const { parseClipTextConfig, parseUNetConfig, parseVaeConfig } = await import('../model/config');
  const { Weights } = await import('../model/weights');
  const { clipTextEncoder } = await import('../model/clip');
  const { unetForward } = await import('../model/unet');
  const { vaeDecode } = await import('../model/vae');
  const { SD15_TEXT_ENCODER, SD15_UNET, SD15_VAE } = await import('../model/sd15-configs');
  const print = (o: object) => console.log(JSON.stringify({ ...o, precision, adapter: capabilities.adapter.description || capabilities.adapter.vendor }));

  const unetConfig = parseUNetConfig(SD15_UNET);
  const textConfig = parseClipTextConfig(SD15_TEXT_ENCODER);
  const vaeConfig = parseVaeConfig(SD15_VAE);
  const unet = Weights.synthetic('unet', precision, 1);
  const text = Weights.synthetic('text_encoder', precision, 2);
  const vae = Weights.synthetic('vae', precision, 3);

  const TABLE = 'embeddings.token_embedding.weight';
  const tableShape: [number, number] = [textConfig.vocabSize, textConfig.hiddenSize];
  const firstGather = async (w: import('../model/weights').Weights) => {
    const rows = tf.tidy(() => w.rowTable(TABLE, tableShape).gather(tf.range(0, 77 * 641, 641, 'int32')));
    await rows.data();
    rows.dispose();
  };
  const made = await measureGpuMemory(() => firstGather(text));
  print({ name: 'sd15/token-table', source: 'synthetic', table_bytes: text.bytes, peak_bytes: made.peakBytes, largest_buffer_bytes: made.largestBufferBytes });
  if (precision === 'f16') {
    const { SafetensorsFile } = await import('../model/safetensors-reader');
    const { writeSafetensors } = await import('../model/safetensors-writer');
    const halves = new Uint16Array(tableShape[0] * tableShape[1]).map((_, i) => 0x3c00 ^ (i & 0x3ff)); // values near 1
    const file = await SafetensorsFile.open(writeSafetensors({ [TABLE]: { dtype: 'F16', shape: tableShape, data: halves } }));
    const loaded = await measureGpuMemory(async () => {
      const w = await Weights.load('text_encoder', file);
      await firstGather(w);
      return w;
    });
    print({ name: 'sd15/token-table', source: 'F16 file', table_bytes: loaded.result.bytes, peak_bytes: loaded.peakBytes, largest_buffer_bytes: loaded.largestBufferBytes });
    loaded.result.dispose();
  }

  // Populate every weight with one small pass through each model.
  const t0 = performance.now();
  tf.tidy(() => {
    const ids = tf.zeros([1, 77], 'int32') as import('../gpu/tf').Tensor2D;
    const states = clipTextEncoder(text, textConfig, ids).lastHiddenState;
    unetForward(unet, unetConfig, { sample: tf.zeros([1, 4, 8, 8]) as import('../gpu/tf').Tensor4D, timesteps: [500], encoderHiddenStates: states });
    vaeDecode(vae, vaeConfig, tf.zeros([1, 4, 1, 1]) as import('../gpu/tf').Tensor4D);
  });
  await flushGpu();
  print({
    name: 'sd15/weights',
    unet_bytes: unet.bytes,
    text_encoder_bytes: text.bytes,
    vae_bytes: vae.bytes,
    total_bytes: unet.bytes + text.bytes + vae.bytes,
    build_s: Number(((performance.now() - t0) / 1000).toFixed(1)),
  });

  const context = tf.zeros([2, 77, 768]) as import('../gpu/tf').Tensor3D;
  for (const size of sizes.filter((n) => n <= 32)) {
    const sample = tf.zeros([2, 4, size, size]) as import('../gpu/tf').Tensor4D;
    const start = performance.now();
    const { result, peakBytes, largestBufferBytes } = await measureGpuMemory(() =>
      unetForward(unet, unetConfig, { sample, timesteps: [500, 500], encoderHiddenStates: context }),
    );
    await result.data();
    print({ name: `sd15/unet-forward-${size}x${size}`, batch: 2, seconds: Number(((performance.now() - start) / 1000).toFixed(2)), peak_bytes: peakBytes, largest_buffer_bytes: largestBufferBytes });
    tf.dispose([result, sample]);
  }

  // The studio's generation (textToImage: text encoder, UNet layer by layer with CFG at batch 2,
  // VAE decode) at each size, a few steps: the high-water above the weights after each step, then the decode's.
  const { loadStableDiffusion } = await import('../model/load');
  const { nodeFolderSource } = await import('../model/sources/node-folder');
  const { ClipTokenizer } = await import('../model/tokenizer');
  const { textToImage } = await import('../model/pipeline');
  const { gpuAllocation, trimBufferPool, resetHighWater } = await import('../gpu/memory');
  const tiny = await loadStableDiffusion(nodeFolderSource(new URL('../test/fixtures/tiny-sd', import.meta.url).pathname));
  const model = { ...tiny, text: { config: textConfig, weights: text }, unet: { config: unetConfig, weights: unet }, vae: { config: vaeConfig, weights: vae } };
  const tokenizer = ClipTokenizer.fromFiles(tiny.tokenizerFiles);
  const steps = Number(args.find((a) => /^steps=\d+$/.test(a))?.slice(6) ?? 3);
  const { CancelledError } = await import('../model/pipeline');
  const { checkImageSize, sizeProfile } = await import('../model/size-cost');
  const profile = sizeProfile(unetConfig, vaeConfig);
  for (const size of sizes) {
    // What the engine refuses (a buffer over the adapter's binding limit) is not drawn: the UNet
    // steps alone when only the decode's buffers are too large.
    const fits = (images: number) => checkImageSize(profile, { width: size * 8, height: size * 8, rows: 2, images, purpose: 'generating' }, capabilities.limits);
    const withDecode = fits(1);
    if (fits(0).kind === 'refuse') {
      print({ name: `sd15/generation-${size * 8}px`, skipped: (fits(0) as { message: string }).message });
      continue;
    }
    const decodes = withDecode.kind !== 'refuse';
    const stopBeforeDecode = new AbortController();
    await flushGpu();
    trimBufferPool();
    resetHighWater();
    const weights = gpuAllocation().allocated;
    const perStep: { seconds: number; high_water_above_weights: number; in_use_above_weights: number }[] = [];
    let last = performance.now();
    const start = last;
    const drawn = textToImage(model, tokenizer, { prompt: 'a photo of a cat', width: size * 8, height: size * 8, steps, seed: 1 }, {
      signal: stopBeforeDecode.signal,
      onStep: ({ step }) => {
        const { highWater, usedHighWater } = gpuAllocation();
        perStep.push({ seconds: Number(((performance.now() - last) / 1000).toFixed(2)), high_water_above_weights: highWater - weights, in_use_above_weights: usedHighWater - weights });
        last = performance.now();
        if (!decodes && step === steps) stopBeforeDecode.abort();
      },
    });
    await drawn.catch((e: unknown) => {
      if (decodes || !(e instanceof CancelledError)) throw e;
    });
    print({
      name: `sd15/generation-${size * 8}px`,
      batch: 2,
      steps,
      per_step: perStep,
      step_high_water_above_weights: Math.max(...perStep.map((p) => p.high_water_above_weights)),
      ...(decodes
        ? { with_decode_high_water_above_weights: gpuAllocation().highWater - weights, decode_seconds: Number(((performance.now() - last) / 1000).toFixed(2)) }
        : { decode_skipped: (withDecode as { message: string }).message }),
      seconds: Number(((performance.now() - start) / 1000).toFixed(2)),
      weights_bytes: weights,
    });
  }
  tiny.dispose();
  context.dispose();
  [unet, text, vae].forEach((w) => w.dispose());
  device.destroy();
  return 0;
}
