import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as tf from '../../gpu/tf';
import { parseClipTextConfig, parseUNetConfig, type UNetConfig } from '../../model/config';
import type { SafetensorsTensor } from '../../model/safetensors-dtypes';
import { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { randomNormal } from '../../common/random';
import type { LoraTarget } from '../config';
import { crossAttentionLayers, loraKey } from '../lora';
import { importPersonalization, type ImportTarget } from './import';
import { exportLora, loraFileBytes, type LoraExport } from './lora-export';
import type { ImportedPersonalization } from './import';
import type { LoraModuleLayer } from './lora-layout';
import { kohyaModuleName as kohyaName, unetModules } from './lora-modules';
import { sd15LoraBytes, sd15UNetConfig } from './sizes';
import { refusedImport } from '../../test/import-refusals';

const FIXTURES = new URL('../../test/fixtures', import.meta.url).pathname;
const TINY: UNetConfig = parseUNetConfig(JSON.parse(readFileSync(`${FIXTURES}/tiny-sd/unet/config.json`, 'utf8')));
const TINY_TEXT = parseClipTextConfig(JSON.parse(readFileSync(`${FIXTURES}/tiny-sd/text_encoder/config.json`, 'utf8')));
const TINY_TARGET: ImportTarget = { textDim: 32, unet: TINY };
const SD15_TARGET: ImportTarget = { textDim: 768, unet: sd15UNetConfig() };
const K0 = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2';

const kohyaModuleName = (path: string) => kohyaName('unet', path);

function randomLora(config: UNetConfig, rank: number, alpha: number, targets: readonly LoraTarget[]): LoraExport {
  const shapes = unetModules(config);
  const layers: LoraModuleLayer[] = [];
  let seed = 1;
  for (const { prefix } of crossAttentionLayers(config)) {
    for (const t of targets) {
      const path = `${prefix}.${t}`;
      const [outF, inF] = shapes.get(path)!;
      layers.push({ component: 'unet', path, down: randomNormal(rank * inF, seed++), up: randomNormal(outF * rank, seed++), downShape: [rank, inF], upShape: [outF, rank], alpha });
    }
  }
  return { layers, targets, baseModel: 'tiny-sd', steps: 42, created: '2026-11-24T12:00:00.000Z' };
}

/** The layers of an imported LoRA by module path. */
function byPath(back: ImportedPersonalization | LoraExport): Map<string, LoraModuleLayer> {
  if ('kind' in back && back.kind !== 'lora') throw new Error('expected a LoRA');
  return new Map((back as { layers: readonly LoraModuleLayer[] }).layers.map((l) => [l.path, l]));
}

async function importNoTensors(bytes: Uint8Array, name: string, target: ImportTarget) {
  const before = tf.memory().numTensors;
  const out = await importPersonalization(bytes, name, target);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

const refused = (bytes: Uint8Array, fileName: string, target = TINY_TARGET) => refusedImport(bytes, fileName, target);

describe('LoRA files', () => {
  it('kohya keys: lora_unet_<path with _>.lora_down/.lora_up/.alpha, round trip', async () => {
    const e = randomLora(TINY, 4, 2, ['to_k', 'to_out.0']);
    const bytes = exportLora(e, 'kohya');
    const file = await SafetensorsFile.open(bytes, 'k');
    expect(file.info('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight')).toMatchObject({ dtype: 'F32', shape: [4, 32] });
    expect(file.info('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight')).toMatchObject({ dtype: 'F32', shape: [32, 4] });
    expect(file.info('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_out_0.alpha')).toMatchObject({ dtype: 'F32', shape: [] });
    expect(file.names()).toHaveLength(e.layers.length * 3);
    expect(file.metadata).toMatchObject({ 'studio.kind': 'lora', 'studio.layout': 'kohya', 'studio.rank': '4', 'studio.alpha': '2', 'studio.targets': 'to_k,to_out.0', 'studio.steps': '42', 'studio.base_model': 'tiny-sd' });

    const back = await importNoTensors(bytes, 'k.safetensors', TINY_TARGET);
    if (back.kind !== 'lora') throw new Error('expected a LoRA');
    expect(back).toMatchObject({ layout: 'kohya', rank: 4, alpha: 2, targets: ['to_k', 'to_out.0'] });
    expect(back.layers).toEqual(e.layers);
  });

  it('PEFT keys: unet.<path>.lora_A/lora_B.weight with diffusers adapter metadata, round trip', async () => {
    const e = randomLora(TINY, 2, 8, ['to_k', 'to_v']);
    const bytes = exportLora(e, 'peft');
    const file = await SafetensorsFile.open(bytes, 'p');
    expect(file.info(`unet.${K0}.to_k.lora_A.weight`)).toMatchObject({ shape: [2, 32] });
    expect(file.info(`unet.${K0}.to_v.lora_B.weight`)).toMatchObject({ shape: [32, 2] });
    expect(file.names()).toHaveLength(e.layers.length * 2);
    const config = JSON.parse(file.metadata.lora_adapter_metadata);
    expect(config).toMatchObject({ 'unet.r': 2, 'unet.lora_alpha': 8 });
    expect(config['unet.target_modules']).toContain(`${K0}.to_k`);

    const back = await importNoTensors(bytes, 'p.safetensors', TINY_TARGET);
    if (back.kind !== 'lora') throw new Error('expected a LoRA');
    expect(back).toMatchObject({ layout: 'peft', rank: 2, alpha: 8, targets: ['to_k', 'to_v'] });
    expect(byPath(back).get(`${K0}.to_v`)!.up).toEqual(byPath(e).get(`${K0}.to_v`)!.up);

    // Without any metadata alpha defaults to the rank, as in diffusers.
    const bare: Record<string, SafetensorsTensor> = {};
    for (const name of file.names()) bare[name] = { dtype: 'F32', shape: file.info(name).shape, data: (await file.read(name)) as Float32Array };
    expect(await importNoTensors(writeSafetensors(bare), 'bare.safetensors', TINY_TARGET)).toMatchObject({ rank: 2, alpha: 2 });
  });

  it('F16 storage halves the data and round-trips within half precision', async () => {
    const e = randomLora(TINY, 4, 4, ['to_k', 'to_v']);
    for (const layout of ['kohya', 'peft'] as const) {
      const f32 = exportLora(e, layout, 'F32');
      const f16 = exportLora(e, layout, 'F16');
      // The data section halves (kohya's alphas stay F32: 4 bytes a layer).
      const data = async (bytes: Uint8Array) => bytes.byteLength - (await SafetensorsFile.open(bytes, 'd')).dataStart;
      const alphaBytes = layout === 'kohya' ? 4 * e.layers.length : 0;
      expect(await data(f16)).toBe((await data(f32) - alphaBytes) / 2 + alphaBytes);
      const downKey = layout === 'kohya' ? `${kohyaModuleName(`${K0}.to_k`)}.lora_down.weight` : `unet.${K0}.to_k.lora_A.weight`;
      expect((await SafetensorsFile.open(f16, 'h')).info(downKey).dtype).toBe('F16');
      const back = await importNoTensors(f16, 'h.safetensors', TINY_TARGET);
      if (back.kind !== 'lora') throw new Error('expected a LoRA');
      expect(back.alpha).toBe(4);
      const a = byPath(e).get(`${K0}.to_k`)!.down;
      const b = byPath(back).get(`${K0}.to_k`)!.down;
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.max(1, Math.abs(x))))).toBeLessThan(1e-3);
    }
  });

  it('the golden lora_weights.safetensors (old diffusers naming) maps to our module paths', async () => {
    const bytes = new Uint8Array(readFileSync(`${FIXTURES}/tiny-sd-golden/lora_weights.safetensors`));
    const back = await importNoTensors(bytes, 'lora_weights.safetensors', TINY_TARGET);
    if (back.kind !== 'lora') throw new Error('expected a LoRA');
    expect(back).toMatchObject({ layout: 'diffusers-old', rank: 4, alpha: 4, targets: ['to_q', 'to_k', 'to_v', 'to_out.0'] });
    expect(back.layers).toHaveLength(64);
    expect([...byPath(back).keys()].sort()).toEqual([...unetModules(TINY).keys()].filter((k) => k.includes('.attn2.')).sort()); // every attn2 linear
    const golden = await SafetensorsFile.open(bytes, 'golden');
    const key = loraKey(`${K0}.to_k`, 'down');
    expect(byPath(back).get(`${K0}.to_k`)!.down).toEqual(await golden.readFloat32(key));
    expect(back.layers.every((l) => l.alpha === 4 && l.component === 'unet')).toBe(true); // scale 1
  });

  it('refuses shapes that do not fit the UNet (an SD 1.5 LoRA on the tiny UNet)', async () => {
    const error = await refused(exportLora(randomLora(SD15_TARGET.unet, 1, 1, ['to_k']), 'peft'), 'sd15.safetensors');
    expect(error.reason).toBe('shape-mismatch');
    expect(error.message).toMatch(/down \[1,768\] and up \[320,1\], but this model's linear is \[32,32\]/);
  });

  it('reads community LoRAs on self-attention and feed-forward too (kohya names), with their shapes', async () => {
    const block = 'down_blocks.0.attentions.0.transformer_blocks.0';
    const C = unetModules(TINY).get(`${block}.attn2.to_q`)![0];
    const tensors: Record<string, SafetensorsTensor> = {};
    const paths = { [`${block}.attn1.to_q`]: [C, C], [`${block}.ff.net.0.proj`]: [8 * C, C], [`${block}.ff.net.2`]: [C, 4 * C] } as Record<string, [number, number]>;
    for (const [path, [outF, inF]] of Object.entries(paths)) {
      const m = kohyaModuleName(path);
      tensors[`${m}.lora_down.weight`] = { dtype: 'F32', shape: [2, inF], data: randomNormal(2 * inF, 1) };
      tensors[`${m}.lora_up.weight`] = { dtype: 'F32', shape: [outF, 2], data: randomNormal(2 * outF, 2) };
      tensors[`${m}.alpha`] = { dtype: 'F32', shape: [], data: new Float32Array([1]) };
    }
    const back = await importNoTensors(writeSafetensors(tensors), 'community.safetensors', TINY_TARGET);
    expect(back.kind).toBe('lora');
    if (back.kind !== 'lora') return;
    expect([...byPath(back).keys()].sort()).toEqual(Object.keys(paths).sort());
    expect(byPath(back).get(`${block}.ff.net.0.proj`)).toMatchObject({ downShape: [2, C], upShape: [8 * C, 2], alpha: 1 });
  });

  it('refuses module paths the model does not have, naming them', async () => {
    const bad = writeSafetensors({
      'lora_unet_down_blocks_3_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight': { dtype: 'F32', shape: [1, 32], data: new Float32Array(32) },
      'lora_unet_down_blocks_3_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight': { dtype: 'F32', shape: [64, 1], data: new Float32Array(64) },
    });
    const error = await refused(bad, 'x.safetensors');
    expect(error.reason).toBe('unknown-module');
    expect(error.message).toMatch(/'lora_unet_down_blocks_3_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight' is not on one of this UNet's linears and convolutions/);

    const te = writeSafetensors({ 'lora_te_text_model_encoder_layers_9_self_attn_q_proj.lora_down.weight': { dtype: 'F32', shape: [1, 32], data: new Float32Array(32) } });
    const teError = await refused(te, 'te.safetensors', { ...TINY_TARGET, text: TINY_TEXT });
    expect(teError.reason).toBe('unknown-module');
    expect(teError.message).toMatch(/layers_9_self_attn_q_proj.* is not on one of this text encoder's/);
    // without the text encoder's config, its layers cannot be placed
    expect((await refused(te, 'te.safetensors')).message).toMatch(/adapts the text encoder, which is not available here/);
  });

  it('refuses a layer missing its up weight', async () => {
    const half = writeSafetensors({ [`unet.${K0}.to_k.lora.down.weight`]: { dtype: 'F32', shape: [4, 32], data: new Float32Array(128) } });
    const error = await refused(half, 'half.safetensors');
    expect(error.reason).toBe('invalid');
    expect(error.message).toMatch(/has no up weight/);
  });

  it('computed sizes equal the exported bytes', () => {
    const e = randomLora(TINY, 4, 4, ['to_k', 'to_v']);
    for (const layout of ['kohya', 'peft'] as const) {
      for (const dtype of ['F32', 'F16'] as const) {
        const o = { rank: 4, alpha: 4, targets: e.targets!, layout, dtype, baseModel: e.baseModel, steps: e.steps, created: e.created };
        expect(loraFileBytes(TINY, o)).toBe(exportLora(e, layout, dtype).byteLength);
      }
    }
  });

  it('SD 1.5 sizes: r=4 on to_k/to_v in F16 is ≤ 400 KiB (PEFT) and about half of F32', () => {
    const sizes = Object.fromEntries(
      (['kohya', 'peft'] as const).flatMap((layout) => (['F32', 'F16'] as const).map((dtype) => [`${layout} ${dtype}`, sd15LoraBytes(4, ['to_k', 'to_v'], layout, dtype)])),
    );
    console.log('LoRA SD1.5 r=4 to_k/to_v bytes:', sizes);
    for (const layout of ['kohya', 'peft']) expect(sizes[`${layout} F16`]).toBeLessThan(0.52 * sizes[`${layout} F32`]);
    expect(sizes['peft F16']).toBeLessThanOrEqual(400 * 1024);
    // kohya's 32 extra `.alpha` entries make its header 13.8 KB (PEFT's: 11.4 KB): 400.6 KiB.
    expect(sizes['kohya F16']).toBeLessThanOrEqual(401 * 1024);
  });
});
