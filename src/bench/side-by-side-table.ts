/**
 * The GPU side-by-side run's pure parts (scripts/gpu-side-by-side/): its arguments, and the
 * table of ours / diffusers from the two halves' JSON lines. No GPU, no Node built-ins.
 */

export type Task = 'ti' | 'lora' | 'generation';
export const TASKS: readonly Task[] = ['ti', 'lora', 'generation'];

export interface SideBySideArgs {
  pixels: number;
  /** Timed training steps after the one warm-up step. */
  timed: number;
  /** Sampler steps of the generation. */
  genSteps: number;
  tasks: Task[];
  checkpointing: boolean[];
  /** Folder with vocab.json, merges.txt (and optional tokenizer/special-token configs). */
  tokenizer: string;
  /** Folder with scheduler_config.json. */
  scheduler: string;
  /** Seconds after which no further measurement starts (0: no limit). */
  budgetS: number;
}

const USAGE =
  'usage: bench.mjs [--pixels 512] [--timed 2] [--gen-steps 25] [--tasks ti,lora,generation] ' +
  '[--checkpointing off,on] [--tokenizer DIR] [--scheduler DIR] [--budget-s 0] | bench.mjs ratios OURS.jsonl DIFFUSERS.jsonl';

/** `--name value` pairs; a bare number is the pixel size. Throws with the usage line on anything else. */
export function parseSideBySideArgs(argv: readonly string[], defaults: { tokenizer: string; scheduler: string }): SideBySideArgs {
  const out: SideBySideArgs = { pixels: 512, timed: 2, genSteps: 25, tasks: [...TASKS], checkpointing: [false, true], budgetS: 0, ...defaults };
  const positive = (name: string, v: string | undefined, min = 1) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${v}. ${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (/^\d+$/.test(a)) {
      out.pixels = Number(a);
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value. ${USAGE}`);
    if (a === '--pixels') out.pixels = positive(a, v);
    else if (a === '--timed') out.timed = positive(a, v);
    else if (a === '--gen-steps') out.genSteps = positive(a, v);
    else if (a === '--budget-s') out.budgetS = positive(a, v, 0);
    else if (a === '--tokenizer') out.tokenizer = v;
    else if (a === '--scheduler') out.scheduler = v;
    else if (a === '--tasks') {
      const tasks = v.split(',');
      const bad = tasks.find((t) => !TASKS.includes(t as Task));
      if (bad !== undefined) throw new Error(`unknown task ${bad} (ti, lora, generation). ${USAGE}`);
      out.tasks = tasks as Task[];
    } else if (a === '--checkpointing') {
      const modes = v.split(',');
      if (modes.some((m) => m !== 'off' && m !== 'on')) throw new Error(`--checkpointing takes off, on or off,on. ${USAGE}`);
      out.checkpointing = modes.map((m) => m === 'on');
    } else throw new Error(`unknown argument ${a}. ${USAGE}`);
  }
  if (out.pixels % 64 !== 0) throw new Error(`pixels must be a multiple of 64 (the UNet's three downsamplings of the latents), got ${out.pixels}.`);
  return out;
}

/** One measurement line of either half (extra fields are kept but not used here). */
export interface Row {
  side: 'ours' | 'diffusers';
  task: Task;
  pixels: number;
  precision: string;
  checkpointing?: boolean;
  seconds_per_step?: number;
  high_water_bytes?: number;
  skipped?: string;
}

/** The measurement rows of a JSON-lines text; other lines (logs, notes) are left out. */
export function parseRows(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as Partial<Row>;
      if ((o.side === 'ours' || o.side === 'diffusers') && TASKS.includes(o.task as Task) && typeof o.pixels === 'number') rows.push(o as Row);
    } catch {
      // not a measurement
    }
  }
  return rows;
}

// null: not measured (the diffusers half on a CPU has no CUDA memory counter)
const gb = (b: number | null | undefined) => (b == null ? '–' : (b / 1e9).toFixed(2));
const sec = (s: number | null | undefined) => (s == null ? '–' : s < 10 ? s.toFixed(3) : s.toFixed(1));
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? '–' : (a / b).toFixed(2) + '×');

/**
 * Per diffusers row, ours with the same task, size and checkpointing (generation has none):
 * s/step and high-water bytes of each and ours / diffusers. Ours without a diffusers match
 * get a row of their own (ratio –).
 */
export function ratioTable(ours: readonly Row[], diffusers: readonly Row[]): string {
  const key = (r: Row) => `${r.task}/${r.pixels}/${r.task === 'generation' ? '' : Boolean(r.checkpointing)}`;
  const mine = new Map<string, Row>();
  for (const r of ours) if (r.side === 'ours' && !r.skipped) mine.set(key(r), r);
  const lines = [['task', 'px', 'ckpt', 'diffusers', 'ours s/step', 'diffusers s/step', 'ratio', 'ours GB', 'diffusers GB', 'ratio']];
  const used = new Set<string>();
  const ck = (r: Row) => (r.task === 'generation' ? '–' : r.checkpointing ? 'on' : 'off');
  for (const d of diffusers) {
    if (d.side !== 'diffusers' || d.skipped) continue;
    const o = mine.get(key(d));
    if (o) used.add(key(d));
    lines.push([d.task, String(d.pixels), ck(d), d.precision, sec(o?.seconds_per_step), sec(d.seconds_per_step), ratio(o?.seconds_per_step, d.seconds_per_step), gb(o?.high_water_bytes), gb(d.high_water_bytes), ratio(o?.high_water_bytes, d.high_water_bytes)]);
  }
  for (const [k, o] of mine) if (!used.has(k)) lines.push([o.task, String(o.pixels), ck(o), '(none)', sec(o.seconds_per_step), '–', '–', gb(o.high_water_bytes), '–', '–']);
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) => l.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}
