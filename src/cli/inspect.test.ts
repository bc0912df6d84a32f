/**
 * `studio inspect` in process on the tiny fixture: what it reports of a kohya file with UNet
 * conv and text-encoder layers, the ΔW file it writes (checked against up · down · alpha / r
 * computed here), and a refusal's exit code and named reason.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomNormal } from '../common/random';
import type { Engine } from '../engine/engine';
import { parseClipTextConfig, parseUNetConfig } from '../model/config';
import { SafetensorsFile } from '../model/safetensors-reader';
import { writeSafetensors } from '../model/safetensors-writer';
import { crossAttentionLayerList } from '../model/cross-attention';
import { textEncoderModules, unetModules } from '../train/formats/lora-modules';
import { KOHYA_XTI_NAMES } from '../train/formats/kohya-xti';
import { exportPerfusion } from '../train/formats/perfusion-file';
import { TINY_SD } from '../test/model-fixtures';
import { createEngine } from './engine';
import { inspect } from './inspect';
import { report } from './main';
import { createOutput, type Output } from './progress';
import { EXIT } from './usage';

function capture(): { out: Output; lines: Record<string, unknown>[]; stderr: string[] } {
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const sink = (push: (text: string) => void) => new Writable({ write: (chunk, _, next) => (push(String(chunk)), next()) }) as unknown as NodeJS.WriteStream;
  return { out: createOutput(true, { stdout: sink((t) => t.trim() && lines.push(JSON.parse(t))), stderr: sink((t) => stderr.push(t)) }), lines, stderr };
}

const config = (file: string) => JSON.parse(readFileSync(join(TINY_SD, file), 'utf8'));
const UNET = unetModules(parseUNetConfig(config('unet/config.json')));
const TEXT = textEncoderModules(parseClipTextConfig(config('text_encoder/config.json')));

describe('studio inspect (in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-inspect-'));
  let engine: Engine;
  const layers = [
    { name: 'lora_unet_down_blocks_0_resnets_0_conv1', module: 'unet.down_blocks.0.resnets.0.conv1', shape: UNET.get('down_blocks.0.resnets.0.conv1')!, r: 2, alpha: 1 },
    { name: 'lora_unet_down_blocks_0_attentions_0_proj_in', module: 'unet.down_blocks.0.attentions.0.proj_in', shape: UNET.get('down_blocks.0.attentions.0.proj_in')!, r: 4, alpha: 4 },
    { name: 'lora_te_text_model_encoder_layers_0_self_attn_q_proj', module: 'text_encoder.text_model.encoder.layers.0.self_attn.q_proj', shape: TEXT.get('encoder.layers.0.self_attn.q_proj')!, r: 4, alpha: 2 },
  ].map((l, i) => {
    const [out, inF, ...k] = l.shape;
    const cols = inF * k.reduce((a, b) => a * b, 1);
    return { ...l, up: randomNormal(out * l.r, 10 + i), down: randomNormal(l.r * cols, 20 + i), out, cols };
  });
  const file = join(dir, 'community.safetensors');

  beforeAll(async () => {
    const tensors: Parameters<typeof writeSafetensors>[0] = {};
    for (const l of layers) {
      const conv = l.shape.length === 4;
      tensors[`${l.name}.lora_down.weight`] = { dtype: 'F32', shape: [l.r, ...l.shape.slice(1)], data: l.down };
      tensors[`${l.name}.lora_up.weight`] = { dtype: 'F32', shape: conv ? [l.out, l.r, 1, 1] : [l.out, l.r], data: l.up };
      tensors[`${l.name}.alpha`] = { dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(l.alpha)]) };
    }
    writeFileSync(file, writeSafetensors(tensors));
    engine = await createEngine();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--json lists every layer with its diffusers module path, rank, alpha and scale; --delta-out writes ΔW', async () => {
    const { out, lines } = capture();
    const deltaOut = join(dir, 'delta.safetensors');
    expect(await inspect(file, { model: TINY_SD, json: true, deltaOut }, out, async () => engine)).toBe(EXIT.ok);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'inspect', kind: 'lora', format: 'kohya', left_out: [] });
    expect(lines[0].layers).toEqual(layers.map((l) => ({ module: l.module, rank: l.r, alpha: l.alpha, scale: l.alpha / l.r })));

    const delta = await SafetensorsFile.open(new Uint8Array(readFileSync(deltaOut)), 'delta');
    expect(delta.names().sort()).toEqual(layers.map((l) => l.module).sort());
    for (const l of layers) {
      expect(delta.info(l.module).shape).toEqual(l.shape);
      const got = await delta.readFloat32(l.module);
      for (const [o, c] of [[0, 0], [l.out - 1, l.cols - 1], [1, 3]]) {
        let want = 0;
        for (let k = 0; k < l.r; k++) want += l.up[o * l.r + k] * l.down[k * l.cols + c];
        expect(got[o * l.cols + c]).toBeCloseTo((want * l.alpha) / l.r, 5);
      }
    }
  });

  it('a Perfusion file: its token vector, the attn2 modules its K/V edit covers, and its gate', async () => {
    const unet = parseUNetConfig(config('unet/config.json'));
    const dim = parseClipTextConfig(config('text_encoder/config.json')).hiddenSize;
    const list = crossAttentionLayerList(unet);
    const widths = list.map((l) => l.channels);
    const total = widths.reduce((a, b) => a + b, 0);
    const embedding = randomNormal(dim, 5);
    const perfusion = { layers: list.map((l) => l.path), widths, keys: randomNormal(total, 6), values: randomNormal(total, 7), iStar: randomNormal(dim, 8), cInvIStar: randomNormal(dim, 9), gateBias: 0.7, gateTemperature: 0.15 };
    const path = join(dir, 'perfusion.safetensors');
    writeFileSync(path, exportPerfusion({ token: '<teddy>', classWord: 'teddy', embedding, perfusion }));
    const { out, lines } = capture();
    expect(await inspect(path, { model: TINY_SD, json: true, deltaOut: join(dir, 'none.safetensors') }, out, async () => engine)).toBe(EXIT.ok);
    const answer = lines.find((l) => l.event === 'inspect')!;
    expect(answer).toMatchObject({ kind: 'perfusion', tokens: ['<teddy>'], edit: { layers: list.map((l) => `unet.${l.path}`), gate_bias: 0.7, gate_temperature: 0.15 } });
    expect(answer.vectors).toEqual([Array.from(embedding)]);

    const text: string[] = [];
    const sink = new Writable({ write: (chunk, _, next) => (text.push(String(chunk)), next()) }) as unknown as NodeJS.WriteStream;
    await inspect(path, { model: TINY_SD }, createOutput(false, { stdout: sink, stderr: sink }), async () => engine);
    expect(text.join('')).toContain(`perfusion.safetensors: Perfusion key-locked edit, token <teddy>, 1 vector of ${dim}; rank-1 K/V edits on ${list.length} cross-attention layers (gate bias 0.7, temperature 0.15)`);
    expect(text.join('')).toContain(`  unet.${list[0].path}\n`);
  });

  it("a kohya XTI file (16 keys IN01 … OUT11, no metadata): a P+ embedding, its rows in forward order, the token the file's name", async () => {
    const dim = parseClipTextConfig(config('text_encoder/config.json')).hiddenSize;
    const rows = KOHYA_XTI_NAMES.map((_, l) => randomNormal(dim, 40 + l));
    const path = join(dir, 'shiny.safetensors');
    writeFileSync(path, writeSafetensors(Object.fromEntries(KOHYA_XTI_NAMES.map((n, l) => [n, { dtype: 'F32' as const, shape: [1, dim], data: rows[l] }]))));
    const { out, lines } = capture();
    expect(await inspect(path, { model: TINY_SD, json: true }, out, async () => engine)).toBe(EXIT.ok);
    const answer = lines.find((l) => l.event === 'inspect')!;
    expect(answer).toMatchObject({ kind: 'embedding', format: 'pplus kohya-xti', tokens: ['<shiny>'] });
    // KOHYA_XTI_NAMES is in the UNet's forward order, as the rows are
    expect(answer.vectors).toEqual(rows.map((r) => Array.from(r)));

    const text: string[] = [];
    const sink = new Writable({ write: (chunk, _, next) => (text.push(String(chunk)), next()) }) as unknown as NodeJS.WriteStream;
    await inspect(path, { model: TINY_SD }, createOutput(false, { stdout: sink, stderr: sink }), async () => engine);
    expect(text.join('')).toContain(`shiny.safetensors: P+ embedding (kohya's XTI layout), token <shiny>, 16 cross-attention layer vectors of ${dim}`);
  });

  it('a refused file exits 1 with the reason that names the key, and no stack', async () => {
    const loha = join(dir, 'loha.safetensors');
    writeFileSync(loha, writeSafetensors({ 'lora_unet_down_blocks_0_resnets_0_conv1.hada_w1_a': { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } }));
    const { out, lines } = capture();
    const error = await inspect(loha, { model: TINY_SD, json: true }, out, async () => engine).then(
      () => null,
      (e: unknown) => e,
    );
    const stderr: string[] = [];
    const code = report(error, out, new Writable({ write: (chunk, _, next) => (stderr.push(String(chunk)), next()) }));
    expect(code).toBe(EXIT.failed);
    expect(lines.at(-1)).toMatchObject({ event: 'error', name: 'ImportRefused' });
    expect(stderr.join('')).toMatch(/LoHa layers: 1 ignored \(e\.g\. 'lora_unet_down_blocks_0_resnets_0_conv1\.hada_w1_a'\)/);
    expect(stderr.join('')).not.toMatch(/\n\s+at \S/);
  });
});
