/**
 * `npm run measure:dispatches [-- SIDE]`: the GPU dispatches of an SD1.5-shaped model (real
 * configs, synthetic packed f16 weights) at SIDE×SIDE latents (default 8, i.e. 64 px): one UNet
 * forward at batch 2 (as CFG runs it), and one textual-inversion and one LoRA (r4, to_k/to_v)
 * training step (loss, backward with activation checkpointing, AdamW), each counted
 * (tfjs's programs vs ours) with the share of GPU time in each, from the adapter's timestamps.
 * The counts do not depend on SIDE; the time shares do. One JSON line per measurement.
 */
import { startNodeWebGpu } from '../gpu/node-webgpu';
import type * as TF from '../gpu/tf';

export async function main(args: string[]): Promise<number> {
  const { device, capabilities } = await startNodeWebGpu();
  const side = Number(args.find((a) => /^\d+$/.test(a)) ?? 8);
  const tf = await import('../gpu/tf');
  const { flushGpu } = await import('../gpu/tf-backend');
  const { profileDispatches } = await import('../gpu/dispatch-profile');
  const { loadStableDiffusion } = await import('../model/load');
  const { nodeFolderSource } = await import('../model/sources/node-folder');
  const { unetForward } = await import('../model/unet');
  const { DdpmScheduler } = await import('../model/schedulers');
  const { ClipTokenizer } = await import('../model/tokenizer');
  const { AdamW } = await import('../kernels/adamw');
  const { lossAndGrads } = await import('../train/loss');
  const { TextualInversion } = await import('../train/textual-inversion');
  const { Lora } = await import('../train/lora');
  const { randomNormal } = await import('../common/random');
  const { syntheticSd15 } = await import('./sd15-synthetic');
  const print = (o: object) => console.log(JSON.stringify({ ...o, adapter: capabilities.adapter.description || capabilities.adapter.vendor }));

  const tiny = await loadStableDiffusion(nodeFolderSource(new URL('../test/fixtures/tiny-sd', import.meta.url).pathname));
  const model = syntheticSd15(tiny);
  const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
  const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);

  /** Profiles `f` twice (the first makes up the weights and compiles the pipelines) and prints the second. */
  async function report(name: string, f: () => TF.Tensor[]): Promise<void> {
    tf.dispose(f());
    await flushGpu();
    let out: TF.Tensor[] = [];
    const { dispatches, timed } = await profileDispatches(() => void (out = f()));
    tf.dispose(out);
    const ours = (program: string) => !/Program$/.test(program); // tfjs's are classes named …Program
    const byProgram = new Map<string, { count: number; ms: number }>();
    for (const d of dispatches) {
      const p = byProgram.get(d.program) ?? { count: 0, ms: 0 };
      byProgram.set(d.program, { count: p.count + 1, ms: p.ms + d.ms });
    }
    const totalMs = dispatches.reduce((s, d) => s + d.ms, 0);
    const oursMs = dispatches.filter((d) => ours(d.program)).reduce((s, d) => s + d.ms, 0);
    const top = [...byProgram].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    print({
      name,
      latents: `${side}x${side}`,
      dispatches: dispatches.length,
      ours: dispatches.filter((d) => ours(d.program)).length,
      tfjs: dispatches.filter((d) => !ours(d.program)).length,
      timed,
      gpu_ms: Number(totalMs.toFixed(1)),
      ours_time_share: totalMs ? Number((oursMs / totalMs).toFixed(3)) : null,
      top: top.map(([program, p]) => ({ program, count: p.count, ms: Number(p.ms.toFixed(1)), share: totalMs ? Number((p.ms / totalMs).toFixed(3)) : null })),
    });
  }

  const context = tf.tensor3d(randomNormal(2 * 77 * 768, 1, 0.5), [2, 77, 768]);
  const sample = tf.tensor4d(randomNormal(2 * 4 * side * side, 2), [2, 4, side, side]);
  await report('dispatches/sd15-unet-forward-batch2', () => [unetForward(model.unet.weights, model.unet.config, { sample, timesteps: [500, 500], encoderHiddenStates: context })]);

  const shape: [number, number, number, number] = [1, 4, side, side];
  const batch = {
    latents: tf.tensor4d(randomNormal(4 * side * side, 3), shape),
    noise: tf.tensor4d(randomNormal(4 * side * side, 4), shape),
    timesteps: [500],
    inputIds: tf.tensor2d([tokenizer.encode('a photo of <my-thing>').ids], undefined, 'int32'),
  };
  const ti = TextualInversion.create(model.text.weights, { numVectors: 1, initIds: tokenizer.tokenize('cat'), tokenIds: tokenizer.addConcept('<my-thing>', 1) });
  const tiOptimizer = new AdamW([ti.vectors]);
  await report('dispatches/sd15-ti-step-checkpointed', () => {
    const { loss, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors], { embedTokens: ti.embedTokens, checkpointing: true });
    tiOptimizer.apply(grads, 5e-3);
    tf.dispose(grads);
    return [loss];
  });
  const lora = Lora.create(model.unet.weights, model.unet.config, { rank: 4, alpha: 4, targets: ['to_k', 'to_v'], seed: 1 });
  const loraOptimizer = new AdamW(lora.variables());
  await report('dispatches/sd15-lora-step-checkpointed', () => {
    const { loss, grads } = lossAndGrads(model, scheduler, batch, lora.variables(), { checkpointing: true });
    loraOptimizer.apply(grads, 1e-4);
    tf.dispose(grads);
    return [loss];
  });
  lora.dispose();
  ti.dispose();
  tf.dispose([context, sample, batch.latents, batch.noise, batch.inputIds, ...tiOptimizer.moments, ...loraOptimizer.moments]);
  model.dispose();
  tiny.dispose();
  device.destroy();
  return 0;
}
