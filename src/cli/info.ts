/**
 * `studio info`: the GPU adapter the engine gets (what `engine.init()` answers: the adapter, the
 * limits it raised and reports, the optional features it enabled) and, with `--model`, that
 * model's card: what it is, its weights on the GPU, and the settings the studio starts from.
 */
import type { Engine } from '../engine/engine';
import type { ModelInfo } from '../engine/protocol';
import type { GpuCapabilities } from '../gpu/device';
import { createEngine, startWithModel } from './engine';
import { oneAnswer, type Output } from './progress';
import { EXIT, modelOptions, type AddCommand } from './usage';

export interface InfoArgs {
  model?: string;
  endpoint?: string;
  json?: boolean;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function describeGpu(gpu: GpuCapabilities): string[] {
  const a = gpu.adapter;
  const name = [a.vendor, a.architecture, a.device].filter(Boolean).join(' ');
  const width = Math.max(...Object.keys(gpu.limits).map((k) => k.length));
  return [
    `GPU: ${a.description || name || 'unknown adapter'}${a.description && name ? ` (${name})` : ''}`,
    `Features: ${gpu.features.length ? gpu.features.join(', ') : 'none of shader-f16, subgroups, timestamp-query'}`,
    'Limits:',
    ...Object.entries(gpu.limits).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
}

export function describeModel(m: ModelInfo): string[] {
  const { card } = m;
  const g = card.generation;
  return [
    `Model: ${card.title} (${m.id})`,
    ...(card.about ? [`  ${card.about}`] : []),
    `  Weights on the GPU: ${mb(m.bytes)}; native size ${m.imageSize} px; ${m.summary}`,
    `  Generation: ${g.size} px, ${g.sampler.toUpperCase()} ${g.steps} steps, guidance ${g.guidanceScale}`,
    `  Training: ${card.training?.resolution ?? m.imageSize} px${card.training?.steps ? `, ${card.training.steps} steps` : ''}${card.training?.templates ? `, prompts like "${card.training.templates.slice(0, 3).join('", "')}"` : ''}`,
    '  Example prompts:',
    ...card.examplePrompts.map((p) => `    ${p}`),
  ];
}

export async function info(a: InfoArgs, out: Output, engineFor: () => Promise<Engine> = createEngine): Promise<number> {
  const engine = await engineFor();
  const gpu = await engine.init();
  // With --json, the answer is one object: no loading lines before it.
  const model = a.model ? await startWithModel(engine, a.model, a.endpoint, oneAnswer(out)) : null;
  out.result({ event: 'info', gpu, model }, [...describeGpu(gpu), ...(model ? describeModel(model) : [])].join('\n'));
  return EXIT.ok;
}

export const addInfoCommand: AddCommand = (program, run) => {
  const command = program.command('info').description("the GPU adapter, its limits and features; with --model, the model's card");
  modelOptions(command, 'optional')
    .option('--json', 'one JSON object on stdout')
    .action((args: InfoArgs) => run(args.json, (out) => info(args, out)));
};
