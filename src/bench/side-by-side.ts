/**
 * The studio's half of the GPU side-by-side run (scripts/gpu-side-by-side/): an SD1.5-shaped
 * model (real configs, synthetic packed f16 weights) on real WebGPU: TI and LoRA r4 (attn2
 * to_k, to_v) steps through `Trainer.run` as `measure:train` times them (one warm-up step, then
 * the median of `--timed`), checkpointing off and on, and one `textToImage` generation (DDIM,
 * CFG at batch 2, VAE decode). One JSON line per measurement, printed as it is made:
 * side, task, pixels, precision, checkpointing, seconds_per_step, high_water_bytes, adapter.
 * `bench.mjs ratios OURS DIFFUSERS` prints the table of both halves instead; `bench.mjs configs
 * DIR` writes the SD1.5 configs as unet.json, text_encoder.json, vae.json (the diffusers half's).
 * Reads no file of the repository: tokenizer and scheduler come from folders (arguments).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SD15_TEXT_ENCODER, SD15_UNET, SD15_VAE } from '../model/sd15-configs';
import { parseRows, parseSideBySideArgs, ratioTable, type Task } from './side-by-side-table';

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'ratios') {
    const [ours, diffusers] = argv.slice(1).map((path) => parseRows(readFileSync(path, 'utf8')));
    console.log(ratioTable(ours ?? [], diffusers ?? []));
    return 0;
  }
  if (argv[0] === 'configs') {
    mkdirSync(argv[1], { recursive: true });
    const configs = { unet: SD15_UNET, text_encoder: SD15_TEXT_ENCODER, vae: SD15_VAE };
    for (const [name, config] of Object.entries(configs)) writeFileSync(join(argv[1], `${name}.json`), JSON.stringify(config, null, 1));
    return 0;
  }
  const here = process.env.SIDE_BY_SIDE_DIR ?? '.side-by-side';
  const args = parseSideBySideArgs(argv, { tokenizer: join(here, 'tokenizer'), scheduler: join(here, 'scheduler') });
  const started = performance.now();
  const { startNodeWebGpu } = await import('../gpu/node-webgpu');
  const { device, capabilities } = await startNodeWebGpu();
  const adapter = capabilities.adapter.description || capabilities.adapter.vendor;
  const { flushGpu } = await import('../gpu/tf-backend');
  const { gpuAllocation, resetHighWater, trimBufferPool } = await import('../gpu/memory');
  const { randomNormal } = await import('../common/random');
  const { Trainer } = await import('../train/trainer');
  const { ClipTokenizer } = await import('../model/tokenizer');
  const { textToImage } = await import('../model/pipeline');
  const { makeSyntheticWeights, syntheticSd15 } = await import('./sd15-synthetic');
  type Model = import('../model/load').StableDiffusionModel;

  const print = (o: object) => console.log(JSON.stringify({ side: 'ours', pixels: args.pixels, precision: 'f16-packed', ...o, adapter }));
  const json = (dir: string, name: string, optional = false) => {
    try {
      return JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch (error) {
      if (optional) return {};
      throw error;
    }
  };
  const tokenizerFiles = {
    vocab: json(args.tokenizer, 'vocab.json'),
    merges: readFileSync(join(args.tokenizer, 'merges.txt'), 'utf8'),
    config: json(args.tokenizer, 'tokenizer_config.json', true),
    specialTokensMap: json(args.tokenizer, 'special_tokens_map.json', true),
  };
  // syntheticSd15 replaces the components and keeps the base's tokenizer and scheduler
  const base = { source: 'side-by-side', name: 'side-by-side', schedulerConfig: json(args.scheduler, 'scheduler_config.json'), tokenizerFiles } as unknown as Model;
  const sd15 = syntheticSd15(base);

  // Make every synthetic weight first (LoRA reads the UNet's shapes).
  const t0 = performance.now();
  await makeSyntheticWeights(sd15);
  print({ task: 'weights', bytes: sd15.bytes, seconds: seconds(performance.now() - t0) });

  const overBudget = (what: string) => {
    const spent = (performance.now() - started) / 1000;
    if (!args.budgetS || spent < args.budgetS) return false;
    console.log(`# ${what} skipped: ${spent.toFixed(0)} s spent of the ${args.budgetS} s budget`);
    return true;
  };

  async function train(method: 'ti' | 'lora', gradientCheckpointing: boolean) {
    const resolution = args.pixels;
    const images = randomNormal(3 * 3 * resolution * resolution, 7, 0.5);
    const config = { method, token: '<my-thing>', classWord: 'cat', steps: args.timed + 1, resolution, seed: 1, gradientCheckpointing };
    const trainer = Trainer.create(sd15, config, images);
    let before = 0;
    let start = 0;
    let peak = 0;
    const times: number[] = [];
    const t = performance.now();
    await trainer.run({
      onProgress: () => {
        if (start) {
          times.push((performance.now() - start) / 1000);
          peak = Math.max(peak, gpuAllocation().highWater - before);
        } else {
          trimBufferPool();
          resetHighWater();
          before = gpuAllocation().allocated;
          console.log(`# ours ${method} ckpt=${gradientCheckpointing}: warm-up step ${seconds(performance.now() - t)} s`);
        }
        start = performance.now();
      },
    });
    times.sort((a, b) => a - b);
    const s = times[Math.floor(times.length / 2)];
    print({ task: method, checkpointing: gradientCheckpointing, seconds_per_step: Number(s.toFixed(3)), steps_timed: times.length, high_water_bytes: before + peak, start_bytes: before, step_peak_bytes: peak, loss: trainer.progress().loss });
    trainer.dispose();
  }

  async function generate() {
    const tokenizer = ClipTokenizer.fromFiles(tokenizerFiles);
    await flushGpu();
    trimBufferPool();
    resetHighWater();
    const weights = gpuAllocation().allocated;
    const steps: number[] = [];
    let last = performance.now();
    const start = last;
    await textToImage(sd15, tokenizer, { prompt: 'a photo of a cat', width: args.pixels, height: args.pixels, steps: args.genSteps, seed: 1, sampler: 'ddim', guidanceScale: 7.5 }, {
      onStep: () => {
        steps.push((performance.now() - last) / 1000);
        last = performance.now();
      },
    });
    const timed = steps.length > 1 ? steps.slice(1) : steps; // the first step compiles shaders
    timed.sort((a, b) => a - b);
    print({
      task: 'generation',
      sampler_steps: args.genSteps,
      batch: 2,
      seconds_per_step: Number(timed[Math.floor(timed.length / 2)].toFixed(3)),
      first_step_seconds: Number(steps[0].toFixed(3)),
      decode_seconds: seconds(performance.now() - last),
      seconds: seconds(performance.now() - start),
      high_water_bytes: gpuAllocation().highWater,
      weights_bytes: weights,
    });
  }

  for (const task of args.tasks.filter((t): t is Exclude<Task, 'generation'> => t !== 'generation'))
    for (const ckpt of args.checkpointing) if (!overBudget(`ours ${task} ckpt=${ckpt}`)) await train(task, ckpt);
  if (args.tasks.includes('generation') && !overBudget('ours generation')) await generate();
  sd15.dispose();
  device.destroy();
  return 0;
}

const seconds = (ms: number) => Number((ms / 1000).toFixed(2));
