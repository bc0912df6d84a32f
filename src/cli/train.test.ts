/**
 * `studio train` in process (the subprocess test covers the rest): Ctrl-C pauses into the
 * checkpoint file and exits 130, `--resume` goes on to exactly the run an uninterrupted one
 * makes, and a run's checkpoint is never overwritten without --resume.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine/engine';
import { SafetensorsFile } from '../model/safetensors-reader';
import { TINY_SD } from '../test/model-fixtures';
import { createEngine } from './engine';
import { FileCheckpointStore } from './file-checkpoint-store';
import { program, report } from './main';
import { createOutput, type Output } from './progress';
import { train, trainerOptions, type TrainArgs } from './train';
import { EXIT, UsageError } from './usage';

/** JSON output into memory; `onStep` sees each training report. */
function capture(onStep: (step: number) => void = () => {}): { out: Output; lines: Record<string, unknown>[]; notes: string[] } {
  const lines: Record<string, unknown>[] = [];
  const notes: string[] = [];
  const sink = (push: (text: string) => void) => new Writable({ write: (chunk, _, next) => (push(String(chunk)), next()) }) as unknown as NodeJS.WriteStream;
  const base = createOutput(true, { stdout: sink((t) => t.trim() && lines.push(JSON.parse(t))), stderr: sink((t) => notes.push(t)) });
  return { out: { ...base, training: (r) => (base.training(r), onStep(r.step)) }, lines, notes };
}

describe('studio train options', () => {
  /** The train command's parsed options (its action does nothing). */
  const parsed = (argv: string[]): { command: ReturnType<typeof program>; args: TrainArgs } => {
    const studio = program(async () => {});
    studio.parse(['train', '--model', 'm', '--images', 'i', ...argv], { from: 'user' });
    const command = studio.commands.find((c) => c.name() === 'train')!;
    return { command, args: command.opts() as TrainArgs };
  };
  const base = ['--token', '<t>', '--class', 'cat', '--steps', '2'];

  it('--text-encoder-lora and --lr-text-encoder become textEncoderLora and its rate; help lists them', () => {
    const { command, args } = parsed([...base, '--method', 'lora', '--text-encoder-lora', '--lr-text-encoder', '2e-5']);
    expect(args).toMatchObject({ textEncoderLora: true, lrTextEncoder: 2e-5 });
    expect(trainerOptions(args, 64)).toMatchObject({ method: 'lora', textEncoderLora: true, textEncoderLearningRate: 2e-5 });
    const without = trainerOptions(parsed([...base, '--method', 'both']).args, 64);
    expect('textEncoderLora' in without || 'textEncoderLearningRate' in without).toBe(false);
    const help = command.helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain("--text-encoder-lora LoRA on the text encoder's attention too");
    expect(help).toContain("--lr-text-encoder <rate> learning rate of the text encoder's LoRA (default: half --lr-lora)");
  });

  it('refuses --text-encoder-lora with --method ti, and a bad --lr-text-encoder, naming the option', () => {
    const refused = (argv: string[]) => {
      try {
        trainerOptions(parsed([...base, ...argv]).args, 64);
      } catch (e) {
        return e instanceof UsageError ? e.message : `not a usage error: ${e}`;
      }
      return 'accepted';
    };
    expect(refused(['--method', 'ti', '--text-encoder-lora'])).toMatch(/^--text-encoder-lora: training option textEncoderLora = true must be false with method 'ti'/);
    expect(refused(['--method', 'ti', '--token', '<my cat>'])).toBe('--token: training option token: "<my cat>" has a space in it: a token is one word.');
    expect(refused(['--method', 'lora', '--text-encoder-lora', '--lr-text-encoder', '0'])).toMatch(/^--lr-text-encoder: training option textEncoderLearningRate = 0 must be a positive number/);
  });

  it("DreamBooth's flags become its options; a bad one is refused naming the flag", () => {
    const { args } = parsed([...base, '--method', 'dreambooth', '--class-images', '8', '--prior-loss-weight', '0.5', '--identifier', 'rare', '--class-image-steps', '10']);
    expect(trainerOptions(args, 64)).toMatchObject({ method: 'dreambooth', classImages: 8, priorLossWeight: 0.5, identifier: 'rare', classImageSteps: 10 });
    expect(() => trainerOptions(parsed([...base, '--method', 'lora', '--identifier', 'rare']).args, 64)).toThrow(/^--identifier: training option identifier = "rare" must be 'added' unless the method is 'dreambooth'/);
    expect(() => trainerOptions(parsed([...base, '--method', 'dreambooth', '--class-images', '0']).args, 64)).toThrow(/^--class-images: training option classImages = 0/);
  });
});

describe('studio train (in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-train-'));
  const photos = join(dir, 'photos');
  const store = new FileCheckpointStore(dir);
  let engine: Engine;
  const signals = new EventEmitter();
  const deps = { signals: signals as unknown as NodeJS.Process, engine: async () => engine };
  const args = (out: string): TrainArgs => ({ model: TINY_SD, images: photos, token: '<tok>', class: 'cat', method: 'both', steps: 3, resolution: 32, out: join(dir, out) });

  beforeAll(async () => {
    mkdirSync(photos);
    for (let n = 0; n < 2; n++) {
      const data = new Uint8Array(24 * 24 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * (n + 5)) % 253));
      writeFileSync(join(photos, `p${n}.png`), encode({ width: 24, height: 24, data, channels: 4, depth: 8 }));
    }
    engine = await createEngine(store);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pauses on Ctrl-C into PREFIX.checkpoint (exit 130), resumes to the uninterrupted run bit for bit', async () => {
    expect(await train(args('whole'), capture().out, deps)).toBe(EXIT.ok);

    const paused = capture((step) => step === 1 && signals.emit('SIGINT'));
    expect(await train(args('cut'), paused.out, deps)).toBe(EXIT.interrupted);
    expect(paused.lines.at(-1)).toMatchObject({ event: 'paused', step: 1, steps: 3, checkpoint: join(dir, 'cut.checkpoint') });
    expect(paused.notes.join('')).toMatch(/To go on: studio train .* --out \S*cut --resume/);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('cut'))).toEqual(['cut.checkpoint']); // no files before the run is done

    await expect(train(args('cut'), capture().out, deps)).rejects.toMatchObject({ name: 'InvalidRequest', hint: expect.stringContaining('--resume') });

    const resumed = capture();
    const { token: _t, class: _c, method: _m, ...rest } = args('cut');
    expect(await train({ ...rest, steps: 5, resume: true }, resumed.out, deps)).toBe(EXIT.ok);
    expect(resumed.notes.join('')).toContain("Ignoring --steps 5 (the run's: 3)");
    expect(resumed.lines.filter((l) => l.event === 'step').map((l) => l.step)).toEqual([2, 3]);

    const [whole, cut] = [(await store.get('whole'))!, (await store.get('cut'))!];
    expect([cut.step, cut.rngState, cut.smoothedLoss]).toEqual([whole.step, whole.rngState, whole.smoothedLoss]);
    const bits = (t: { data: Float32Array }[]) => t.map((x) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).toString('base64'));
    expect(bits(cut.tensors)).toEqual(bits(whole.tensors));
    expect(bits(cut.moments)).toEqual(bits(whole.moments));
    expect(readdirSync(dir).filter((f) => f.startsWith('cut')).sort()).toEqual(['cut-emb_params.safetensors', 'cut-lora-kohya.safetensors', 'cut-lora-peft.safetensors', 'cut.checkpoint', 'cut.safetensors']);
  });

  it("a P+ run on an SD 1.x-shaped model writes our per-layer file and kohya's XTI one, the same vectors", async () => {
    expect(await train({ ...args('pp'), method: 'pplus', steps: 1 }, capture().out, deps)).toBe(EXIT.ok);
    expect(readdirSync(dir).filter((f) => f.startsWith('pp')).sort()).toEqual(['pp-pplus.safetensors', 'pp-xti.safetensors', 'pp.checkpoint']);
    const [ours, xti] = await Promise.all(['pp-pplus', 'pp-xti'].map((n) => SafetensorsFile.open(readFileSync(join(dir, `${n}.safetensors`)), n)));
    expect(xti.names()).toHaveLength(16);
    expect(Array.from(await xti.readFloat32('MID'))).toEqual(Array.from(await ours.readFloat32('mid_block.attentions.0.transformer_blocks.0.attn2')));
  });

  it('a diverging run exits 1 naming the step, with a hint and no stack; writes no concept and keeps only a finite checkpoint, which --resume with lower rates finishes', async () => {
    const paused = capture((step) => step === 1 && signals.emit('SIGINT'));
    expect(await train({ ...args('nan'), steps: 6 }, paused.out, deps)).toBe(EXIT.interrupted);
    const { token: _t, class: _c, method: _m, ...rest } = args('nan');

    const diverging = capture();
    const error = await train({ ...rest, resume: true, lrTi: 1e4, lrLora: 1e4 }, diverging.out, deps).catch((e: unknown) => e);
    expect(diverging.notes.join('')).toContain("Going on at --lr-lora 10000 (the run's: 0.0001).");
    let stderr = '';
    const sink = new Writable({ write: (chunk, _, next) => ((stderr += String(chunk)), next()) });
    expect(report(error, createOutput(false, { stdout: sink as unknown as NodeJS.WriteStream, stderr: sink as unknown as NodeJS.WriteStream }), sink)).toBe(EXIT.failed);
    expect(stderr).toMatch(/^error: Training diverged at step \d+: lower the learning rate\.\nhint: Go on from its last good checkpoint \(step 1\) at a lower rate: studio train .* --out \S*nan --resume --lr-ti 1000 --lr-lora 1000\n$/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(dir).filter((f) => f.startsWith('nan'))).toEqual(['nan.checkpoint']);
    const kept = (await store.get('nan'))!;
    expect(kept.step).toBe(1);
    expect([...kept.tensors, ...kept.moments].every((t) => t.data.every(Number.isFinite))).toBe(true);

    const lower = capture();
    expect(await train({ ...rest, resume: true, lrTi: 1e-3, lrLora: 1e-5 }, lower.out, deps)).toBe(EXIT.ok);
    expect(lower.lines.at(-1)).toMatchObject({ event: 'done', step: 6 });
    expect((await store.get('nan'))!.config).toMatchObject({ tiLearningRate: 1e-3, loraLearningRate: 1e-5 });
  });
});
