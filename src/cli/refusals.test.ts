/**
 * The import refusals as the command line gives them: `studio inspect` and `studio generate
 * --embedding/--lora` (through `main`, as bin/studio.mjs runs it) on refused files exit 1 with
 * the engine's named reason (the --json error line) and its message and hint on stderr, no stack.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseClipTextConfig, parseUNetConfig } from '../model/config';
import { writeSafetensors } from '../model/safetensors-writer';
import { TINY_SD } from '../test/model-fixtures';
import { Dict, storedZip, torchSaveRecords } from '../train/formats/torch-file.testing';
import { main } from './main';
import { EXIT } from './usage';

const config = (file: string) => JSON.parse(readFileSync(join(TINY_SD, file), 'utf8'));
const HIDDEN = parseClipTextConfig(config('text_encoder/config.json')).hiddenSize;
const PROJ_IN = 'down_blocks.0.attentions.0.proj_in';
const IN_CHANNELS = parseUNetConfig(config('unet/config.json')).blockOutChannels[0];

const dir = mkdtempSync(join(tmpdir(), 'studio-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  writeFileSync(join(dir, name), bytes);
  return join(dir, name);
}

const f32 = (shape: number[], value: number) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value) });
const embedding = writeSafetensors({ '<tok>': f32([1, HIDDEN], 0.1) });
const kohya = `lora_unet_${PROJ_IN.replace(/\./g, '_')}`;
const evilPickle = Uint8Array.from([0x80, 2, ...new TextEncoder().encode('cos\nsystem\nX\x02\x00\x00\x00ls'), 0x85, 0x52, 0x2e]);

/** Each refused file, the flag generate takes it with, and what its refusal says. */
const REFUSED: { what: string; path: string; flag: '--embedding' | '--lora'; says: RegExp }[] = [
  { what: 'a NaN embedding', path: file('nan.safetensors', writeSafetensors({ '<tok>': f32([1, HIDDEN], NaN) })), flag: '--embedding', says: /'<tok>' holds NaN/ },
  {
    what: 'a LoRA with alpha 1e38',
    path: file('alpha.safetensors', writeSafetensors({ [`${kohya}.lora_down.weight`]: f32([1, IN_CHANNELS], 0.1), [`${kohya}.lora_up.weight`]: f32([IN_CHANNELS, 1], 0.1), [`${kohya}.alpha`]: f32([], 1e38) })),
    flag: '--lora',
    says: /is not a LoRA alpha/,
  },
  {
    what: 'a PEFT LoRA with lora_alpha 1e300 in its metadata',
    path: file('peft.safetensors', writeSafetensors({ [`unet.${PROJ_IN}.lora_A.weight`]: f32([1, IN_CHANNELS], 0.1), [`unet.${PROJ_IN}.lora_B.weight`]: f32([IN_CHANNELS, 1], 0.1) }, { lora_adapter_metadata: '{"unet.r": 1, "unet.lora_alpha": 1e300}' })),
    flag: '--lora',
    says: /not a usable scale/,
  },
  {
    what: 'a torch pickle that calls os.system',
    path: file('evil.pt', storedZip(torchSaveRecords(new Dict([])).map((r) => (r.name.endsWith('data.pkl') ? { ...r, data: evilPickle } : r)))),
    flag: '--embedding',
    says: /names the global 'os\.system', which the studio never runs/,
  },
  { what: 'a truncated safetensors file', path: file('cut.safetensors', embedding.subarray(0, embedding.length - 10)), flag: '--embedding', says: /data_offsets \[0, 128\] are out of range: .*file truncated/ },
];

/** `studio ARGS` in process: its exit code, stdout and stderr. */
async function studio(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const logs = { log: console.log, info: console.info, debug: console.debug }; // main sends them to stderr
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
    Object.assign(console, logs);
  }
}

function expectRefusal(run: { code: number; stdout: string; stderr: string }, says: RegExp): void {
  expect(run.code, run.stderr).toBe(EXIT.failed);
  const error = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  expect(error).toMatchObject({ event: 'error', name: 'ImportRefused', message: expect.stringMatching(says), hint: 'Nothing was added to the library.' });
  expect(run.stderr).toContain(`error: ${error.message}\nhint: ${error.hint}\n`);
  expect(run.stderr).not.toMatch(/\n\s+at \S/);
}

afterEach(() => vi.restoreAllMocks());

describe.each(REFUSED)('$what', ({ path, flag, says }) => {
  it('studio inspect exits 1 with ImportRefused, its message and hint, no stack', async () => {
    expectRefusal(await studio(['inspect', path, '--model', TINY_SD, '--json']), says);
  });

  it(`studio generate ${flag} exits 1 with the same reason, no stack`, async () => {
    const out = join(dir, 'images');
    expectRefusal(await studio(['generate', '--model', TINY_SD, flag, path, '--prompt', 'a photo of <tok>', '--steps', '1', '--size', '32', '--out', out, '--json']), says);
  });
});
