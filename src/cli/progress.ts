/**
 * What the command line says while it works. For people: progress bars on stderr (cli-progress;
 * a line every few seconds when stderr is not a terminal), notes on stderr, results on stdout.
 * With `--json`: one JSON object per line on stdout (progress events, then the result), notes
 * still on stderr, so stdout stays machine-readable.
 */
import { isAbsolute, relative } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Progress, TrainingReport } from '../engine/protocol';

export interface Output {
  readonly json: boolean;
  /** A result: the object as a JSON line with --json, else `text` (if any) on stdout. */
  result(event: Record<string, unknown>, text?: string): void;
  /** A sentence for people, on stderr. */
  note(text: string): void;
  /** Model loading: the file and the overall fraction. */
  loading(p: Progress): void;
  /** A training step: step/total, loss, smoothed loss, steps/s, ETA. */
  training(report: TrainingReport): void;
  /** A denoising step of image `index` (0-based) of `count`. */
  generating(index: number, count: number, p: Progress): void;
  /** Ends the current bar, if any. */
  stop(): void;
}

export interface Streams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** For a command that answers with one object: with --json nothing comes before it, no loading lines. */
export function oneAnswer(out: Output): Output {
  return out.json ? { ...out, loading: () => {} } : out;
}

/** A path as people read it: relative to the current folder when inside it, else absolute. */
export function shownPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

/** Seconds as `1h02m`, `3m05s` or `12s`. */
export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

const FORMATS = {
  load: '{label} |{bar}| {percentage}%',
  train: 'Training |{bar}| {value}/{total} | loss {loss} (smoothed {smoothed}) | {rate} steps/s | ETA {left}',
  generate: 'Image {image}/{images} |{bar}| step {value}/{total}',
};

export function createOutput(json: boolean, { stdout, stderr }: Streams = process): Output {
  let bar: { kind: keyof typeof FORMATS; bar: SingleBar; key: string } | null = null;
  let lastLoad = { label: '', fraction: -1 };
  const line = (event: Record<string, unknown>) => stdout.write(`${JSON.stringify(event)}\n`);

  /** The bar of `kind` for `key` (a new one when either changes), at `value` of `total`. */
  const show = (kind: keyof typeof FORMATS, key: string, value: number, total: number, payload: Record<string, unknown>) => {
    if (bar && (bar.kind !== kind || bar.key !== key)) stop();
    if (!bar) {
      const b = new SingleBar({ format: FORMATS[kind], stream: stderr, noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true, barsize: 24 }, Presets.shades_classic);
      b.start(total, value, payload);
      bar = { kind, bar: b, key };
    }
    bar.bar.setTotal(total);
    bar.bar.update(value, payload);
  };
  const stop = () => {
    bar?.bar.stop();
    bar = null;
  };

  return {
    json,
    result(event, text) {
      if (json) line(event);
      else if (text !== undefined) {
        stop();
        stdout.write(`${text}\n`);
      }
    },
    note(text) {
      stop();
      stderr.write(`${text}\n`);
    },
    loading(p) {
      const fraction = p.fraction ?? 0;
      if (json) {
        // Every file, and every 5% within one.
        if (p.label !== lastLoad.label || fraction - lastLoad.fraction >= 0.05 || (fraction === 1 && lastLoad.fraction < 1)) {
          lastLoad = { label: p.label, fraction };
          line({ event: 'load', label: p.label, fraction: p.fraction });
        }
        return;
      }
      show('load', 'model', Math.round(fraction * 100), 100, { label: p.label });
    },
    training(r) {
      if (json) {
        const { step, steps, loss, smoothedLoss, stepsPerSecond, etaSeconds, checkpointStep, lr } = r;
        line({ event: 'step', step, steps, loss, smoothedLoss, stepsPerSecond, etaSeconds, checkpointStep, lr });
        return;
      }
      show('train', 'run', r.step, r.steps, { loss: r.loss.toFixed(4), smoothed: r.smoothedLoss.toFixed(4), rate: r.stepsPerSecond.toFixed(2), left: duration(r.etaSeconds) });
    },
    generating(index, count, p) {
      const m = /(\d+)\/(\d+)/.exec(p.label);
      const [step, steps] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
      if (json) line({ event: 'denoise', image: index + 1, images: count, step, steps });
      else show('generate', String(index), step, steps, { image: index + 1, images: count });
    },
    stop,
  };
}
