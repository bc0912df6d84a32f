/** `studio evaluate` in process on the tiny fixtures: an embedding file scored against the fixture photos with the folder feature models. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { randomNormal } from '../common/random';
import { parseClipTextConfig } from '../model/config';
import { writeSafetensors } from '../model/safetensors-writer';
import { TINY_SD } from '../test/model-fixtures';
import { CLIP_TINY, DINO_TINY, FEATURE_MODELS } from '../test/feature-fixtures';
import { evaluate } from './evaluate';
import { createOutput } from './progress';
import { EXIT, UsageError } from './usage';

const HIDDEN = parseClipTextConfig(JSON.parse(readFileSync(join(TINY_SD, 'text_encoder/config.json'), 'utf8'))).hiddenSize;

describe('studio evaluate (in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-evaluate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tok.safetensors');
  writeFileSync(file, writeSafetensors({ '<tok>': { dtype: 'F32', shape: [1, HIDDEN], data: randomNormal(HIDDEN, 3, 0.5) } }));
  const args = { model: TINY_SD, concept: file, photos: join(FEATURE_MODELS, 'images'), class: 'cat', clip: CLIP_TINY, dino: DINO_TINY, seeds: '1', steps: 1, size: 32, json: true };

  it('prints the scores, the baseline, the reading and the settings as one JSON result', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = (push: (t: string) => void) => new Writable({ write: (chunk, _, next) => (push(String(chunk)), next()) }) as unknown as NodeJS.WriteStream;
    const out = createOutput(true, { stdout: sink((t) => t.split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l)))), stderr: sink(() => {}) });
    expect(await evaluate(args, out)).toBe(EXIT.ok);
    const done = lines.find((l) => l.event === 'done') as { scores: Record<string, number>; baseline: Record<string, number>; reading: string; settings: { prompts: string[]; featureModels: string[]; seeds: number[] }; images?: unknown };
    expect(Object.values(done.scores).every(Number.isFinite)).toBe(true);
    expect(Object.values(done.baseline).every(Number.isFinite)).toBe(true);
    expect(done.reading).toMatch(/identity|overfit/);
    expect(done.settings.prompts[0]).toBe('a photo of a <tok> on the beach');
    expect(done.settings.featureModels).toEqual([CLIP_TINY, DINO_TINY]);
    expect(done.settings.seeds).toEqual([1]);
    expect(done.images).toBeUndefined();
  });

  it('wants both feature folders or neither', async () => {
    await expect(evaluate({ ...args, dino: undefined }, createOutput(true))).rejects.toThrow(UsageError);
  });
});
