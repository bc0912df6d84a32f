/**
 * `studio bench quality`: the concept-quality benchmark (src/bench/quality.ts) from the command
 * line: each sample concept × method trained on the built-in model and scored by the shapes
 * world's analyzer; a line per (concept, method), then the Markdown table.
 */
import type { Engine } from '../engine/engine';
import { qualityOptions, runQuality } from '../bench/quality';
import { qualityTable } from '../bench/quality-table';
import { createEngine, startWithModel } from './engine';
import { EXIT, integer, decimal, UsageError, type AddCommand } from './usage';

interface QualityArgs {
  concepts?: string;
  methods?: string;
  steps?: number;
  images?: number;
  lrTi?: number;
  lrLora?: number;
  json?: boolean;
}

const list = (s?: string) => s?.split(',').map((x) => x.trim()).filter(Boolean);

export const addBenchCommand: AddCommand = (program, run) => {
  const bench = program.command('bench').description('Measurements of the studio');
  bench
    .command('quality')
    .description('Train each sample concept with each method on the built-in model and score what it draws (fidelity, editability, composition, time, size)')
    .option('--concepts <ids>', 'comma-separated sample concepts (default: all)')
    .option('--methods <names>', 'comma-separated: baseline, ti, lora, both (default: all)')
    .option('--steps <n>', "training steps (default: the built-in model's)", integer)
    .option('--images <n>', 'images per prompt', integer)
    .option('--lr-ti <x>', 'token learning rate', decimal)
    .option('--lr-lora <x>', 'LoRA learning rate', decimal)
    .option('--json', 'one JSON line per (concept, method) on stdout')
    .action((a: QualityArgs) =>
      run(a.json, async (out) => {
        let options;
        try {
          options = qualityOptions({ ...a, concepts: list(a.concepts), methods: list(a.methods) });
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        const engine: Engine = await createEngine();
        await startWithModel(engine, 'builtin', undefined, out);
        const records = await runQuality(engine, options, (r) => out.result({ event: 'quality', ...r }, `${r.concept} ${r.method}: fg colour distance ${r.fidelity.fgColorDist.toFixed(0)}, mask IoU ${r.fidelity.maskIou.toFixed(2)} (${r.totalSeconds.toFixed(0)} s)`));
        if (!out.json) out.result({}, `\n${qualityTable(records)}`);
        return EXIT.ok;
      }),
    );
};
