/**
 * The real command line as a subprocess (`node bin/studio.mjs …`: Vite's module runner, Dawn,
 * the tiny fixture model): train, resume a finished run, generate with the files it wrote, and
 * the exit codes of a bad argument and a refused file. Each spawn starts Vite and Dawn (seconds),
 * so there are five, two phases of them run side by side.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode, encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseParameters, readPngParameters } from '../library/png-parameters';
import { TINY_SD } from '../test/model-fixtures';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/studio.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function studio(args: string[], cwd: string): Promise<Run> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

/** Every stdout line as JSON (with --json nothing else may be there). */
const jsonLines = (run: Run) => run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

/** A safetensors file's header. */
function header(path: string): Record<string, { dtype: string; shape: number[] }> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
}

const NO_STACK = /\n\s+at \S/;

describe('studio, the command line (subprocess, tiny fixture model)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-cli-'));
  const photos = join(dir, 'photos');
  const out = join(dir, 'out');
  const runs: Record<'train' | 'badArgument' | 'refused' | 'resume' | 'generate', Run> = {} as never;

  beforeAll(async () => {
    mkdirSync(photos);
    for (let n = 0; n < 3; n++) {
      const [width, height] = [40 + 8 * n, 36];
      const data = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * (n + 3)) % 251));
      writeFileSync(join(photos, `photo-${n}.png`), encode({ width, height, data, channels: 4, depth: 8 }));
    }
    writeFileSync(join(dir, 'notes.txt'), 'not an embedding');
    const train = ['train', '--model', TINY_SD, '--images', photos, '--token', '<tok>', '--class', 'cat', '--method', 'both', '--steps', '3', '--resolution', '32'];
    [runs.train, runs.badArgument, runs.refused] = await Promise.all([
      studio([...train, '--out', join(out, 'tok'), '--json'], dir),
      studio([...train.slice(0, -4), '--steps', '0'], dir),
      studio(['generate', '--model', TINY_SD, '--embedding', 'notes.txt', '--prompt', 'a photo of <tok>', '--steps', '1', '--size', '32', '--out', 'refused'], dir),
    ]);
    [runs.resume, runs.generate] = await Promise.all([
      studio(['train', '--model', TINY_SD, '--images', photos, '--out', join(out, 'tok'), '--resume', '--json'], dir),
      studio(['generate', '--model', TINY_SD, '--embedding', join(out, 'tok.safetensors'), '--lora', `${join(out, 'tok-lora-kohya.safetensors')}:0.8`, '--prompt', 'a photo of <tok>', '--steps', '2', '--size', '32', '--seed', '7', '--out', 'images'], dir),
    ]);
    if (process.env.STUDIO_TEST_TIMES) console.info(Object.entries(runs).map(([k, r]) => `${k} ${r.seconds.toFixed(1)} s`).join(', '));
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains: JSON lines on stdout, the four export files, and the checkpoint beside them', () => {
    expect(runs.train.code, runs.train.stderr).toBe(0);
    const events = jsonLines(runs.train);
    expect(events.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([1, 2, 3]);
    const done = events.at(-1)!;
    const files = ['tok.safetensors', 'tok-emb_params.safetensors', 'tok-lora-kohya.safetensors', 'tok-lora-peft.safetensors'].map((f) => join(out, f));
    expect(done).toMatchObject({ event: 'done', step: 3, files, checkpoint: join(out, 'tok.checkpoint') });
    expect(existsSync(join(out, 'tok.checkpoint'))).toBe(true);
    expect(header(files[0])['<tok>']).toMatchObject({ dtype: 'F32', shape: [1, 32] });
    expect(header(files[1]).emb_params).toMatchObject({ dtype: 'F32', shape: [1, 32] });
    expect(Object.keys(header(files[2])).filter((k) => k.startsWith('lora_unet_') && k.endsWith('.lora_down.weight'))).toHaveLength(32);
    expect(Object.keys(header(files[3])).filter((k) => /^unet\..+\.lora_A\.weight$/.test(k))).toHaveLength(32);
  });

  it('answers --resume of a finished run at once: no steps, the files again', () => {
    expect(runs.resume.code, runs.resume.stderr).toBe(0);
    const events = jsonLines(runs.resume);
    expect(events.some((e) => e.event === 'step' || e.event === 'load')).toBe(false);
    expect(events.at(-1)).toMatchObject({ event: 'done', step: 3 });
    expect(runs.resume.stderr).toContain('is a finished run');
  });

  it('generates with the embedding and the LoRA it wrote: DIR/<seed>.png carrying its settings', () => {
    expect(runs.generate.code, runs.generate.stderr).toBe(0);
    const file = join(dir, 'images', '7.png');
    expect(runs.generate.stdout.trim()).toBe(join('images', '7.png'));
    const bytes = new Uint8Array(readFileSync(file));
    const png = decode(bytes);
    expect(png).toMatchObject({ width: 32, height: 32, channels: 4 });
    expect(png.text.parameters).toBe(readPngParameters(bytes));
    expect(parseParameters(png.text.parameters)).toMatchObject({
      prompt: 'a photo of <tok>',
      seed: 7,
      steps: 2,
      width: 32,
      height: 32,
      sampler: 'DDIM',
      model: 'tiny-sd',
      loras: [{ name: 'tok-lora-kohya', strength: 0.8 }],
    });
  });

  it('exits 2 on a bad argument, naming it, without a stack', () => {
    expect(runs.badArgument.code).toBe(2);
    expect(runs.badArgument.stderr).toContain('--steps: training option steps = 0 must be a positive integer.');
    expect(runs.badArgument.stderr).not.toMatch(NO_STACK);
    expect(runs.badArgument.stdout).toBe('');
  });

  it('exits 1 on a refused file with the engine’s ImportRefused message and hint, without a stack', () => {
    expect(runs.refused.code).toBe(1);
    expect(runs.refused.stderr).toMatch(/error: notes\.txt: .+\nhint: Nothing was added to the library\./);
    expect(runs.refused.stderr).not.toMatch(NO_STACK);
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });
});
