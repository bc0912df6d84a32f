/**
 * The LoRA files people share, each built in the layout its tool writes: kohya's SD 1.x default
 * (transformer linears, 1×1 proj convs, text encoder), LoCon, PEFT with alpha/rank patterns and
 * rsLoRA, diffusers' kohya converter (I64 alphas), pre-PEFT diffusers processors, and files with
 * LyCORIS kinds the studio does not apply. Each layer's ΔW is checked against the formula the
 * tool applies, written out here apart from the studio's own code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../../common/random';
import { parseClipTextConfig, parseUNetConfig } from '../../model/config';
import type { SafetensorsTensor } from '../../model/safetensors-dtypes';
import { f16ToF32, f32ToF16 } from '../../model/safetensors-dtypes';
import { writeSafetensors } from '../../model/safetensors-writer';
import { conceptFromImport, exportConcept } from '../../engine/concept-files';
import { refusedImport } from '../../test/import-refusals';
import { importPersonalization, type ImportTarget } from './import';
import type { ImportedLora } from './lora-import';
import { effectiveDelta, type LoraModuleLayer } from './lora-layout';
import { textEncoderModules, unetModules } from './lora-modules';

const FIXTURES = new URL('../../test/fixtures', import.meta.url).pathname;
const json = (file: string) => JSON.parse(readFileSync(`${FIXTURES}/tiny-sd/${file}`, 'utf8'));
const UNET = parseUNetConfig(json('unet/config.json'));
const TEXT = parseClipTextConfig(json('text_encoder/config.json'));
const TARGET: ImportTarget = { textDim: TEXT.hiddenSize, unet: UNET, text: TEXT };
const UNET_MODULES = unetModules(UNET);
const TEXT_MODULES = textEncoderModules(TEXT);

type Tensors = Record<string, SafetensorsTensor>;
const f32 = (shape: number[], data: Float32Array): SafetensorsTensor => ({ dtype: 'F32', shape, data });
const f16 = (shape: number[], data: Float32Array): SafetensorsTensor => ({ dtype: 'F16', shape, data: f32ToF16(data) });

/** What a tool computes: ΔW = scale · up[out, r] · down[r, in·kh·kw], in float64, rounded once. */
function referenceDelta(up: Float32Array, down: Float32Array, out: number, r: number, scale: number): Float32Array {
  const cols = down.length / r;
  const d = new Float32Array(out * cols);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += up[o * r + k] * down[k * cols + c];
      d[o * cols + c] = s * scale;
    }
  }
  return d;
}

interface Made {
  up: Float32Array;
  down: Float32Array;
  r: number;
  out: number;
  /** The scale the file's tool applies to this layer. */
  scale: number;
}

async function lora(tensors: Tensors, name: string, metadata?: Record<string, string>, options = {}): Promise<ImportedLora> {
  const back = await importPersonalization(writeSafetensors(tensors, metadata), name, TARGET, options);
  if (back.kind !== 'lora') throw new Error('expected a LoRA');
  return back;
}

function layerOf(back: { layers: readonly LoraModuleLayer[] }, component: string, path: string): LoraModuleLayer {
  const l = back.layers.find((x) => x.component === component && x.path === path);
  if (!l) throw new Error(`no layer ${component}:${path}`);
  return l;
}

/** Every made layer's ΔW equals the tool's within float32 rounding. */
function expectDeltas(back: ImportedLora, made: Map<string, Made>): void {
  expect(back.layers).toHaveLength(made.size);
  for (const [id, m] of made) {
    const [component, path] = id.split(':');
    const got = effectiveDelta(layerOf(back, component, path));
    const want = referenceDelta(m.up, m.down, m.out, m.r, m.scale);
    expect(got.data.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want[i]) / Math.max(1e-3, Math.abs(want[i])));
    expect(worst, id).toBeLessThan(1e-6);
  }
}

let seed = 1;
function made(shape: number[], r: number, scale: number): Made & { downShape: number[] } {
  const [out, inF, ...k] = shape;
  const cols = inF * k.reduce((a, b) => a * b, 1);
  return { up: randomNormal(out * r, seed++, 0.2), down: randomNormal(r * cols, seed++, 0.2), r, out, scale, downShape: [r, inF, ...k] };
}

const KOHYA_TRANSFORMER = /(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.(0\.proj|2)|proj_in|proj_out)$/;

/** kohya sd-scripts `networks/lora.py` defaults on SD 1.x: transformer Linears and 1×1 convs, and the text encoder. */
function kohyaDefault(rank: number, alpha: number, alphaDtype: 'F32' | 'F16' | 'BF16' | 'I64' = 'F16'): { tensors: Tensors; made: Map<string, Made> } {
  const tensors: Tensors = {};
  const all = new Map<string, Made>();
  const put = (component: 'unet' | 'text_encoder', path: string, shape: number[]) => {
    const m = made(shape, rank, alpha / rank);
    const name = component === 'unet' ? `lora_unet_${path.replace(/\./g, '_')}` : `lora_te_text_model_${path.replace(/\./g, '_')}`;
    const conv = shape.length === 4;
    tensors[`${name}.lora_down.weight`] = f16(m.downShape, m.down);
    tensors[`${name}.lora_up.weight`] = f16(conv ? [m.out, rank, 1, 1] : [m.out, rank], m.up);
    tensors[`${name}.alpha`] =
      alphaDtype === 'I64'
        ? { dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(alpha)]) }
        : alphaDtype === 'BF16'
          ? { dtype: 'BF16', shape: [], data: new Uint16Array([new Uint32Array(new Float32Array([alpha]).buffer)[0] >>> 16]) }
          : alphaDtype === 'F16'
            ? f16([], new Float32Array([alpha]))
            : f32([], new Float32Array([alpha]));
    // the file holds F16 values: the reference uses them as read
    all.set(`${component}:${path}`, { ...m, up: roundF16(m.up), down: roundF16(m.down) });
  };
  for (const [path, shape] of UNET_MODULES) if (KOHYA_TRANSFORMER.test(path)) put('unet', path, shape);
  for (const [path, shape] of TEXT_MODULES) put('text_encoder', path, shape);
  return { tensors, made: all };
}

/** What an F16 file gives back for `x`. */
const roundF16 = (x: Float32Array) => f16ToF32(f32ToF16(x));

describe('community LoRA files', () => {
  it("kohya's SD 1.x default layout (transformer linears, 1×1 proj_in/proj_out convs, text encoder) imports at alpha / r", async () => {
    const { tensors, made: m } = kohyaDefault(4, 2);
    const back = await lora(tensors, 'kohya-default.safetensors');
    expect(back.layout).toBe('kohya');
    expect(back.leftOut).toEqual([]);
    expectDeltas(back, m);
    const proj = layerOf(back, 'unet', 'down_blocks.0.attentions.0.proj_in');
    expect(proj.downShape).toEqual([4, UNET_MODULES.get('down_blocks.0.attentions.0.proj_in')![1], 1, 1]);
    expect(back.layers.filter((l) => l.component === 'text_encoder')).toHaveLength(TEXT_MODULES.size);
  });

  for (const dtype of ['F32', 'BF16', 'I64'] as const) {
    it(`reads a ${dtype} alpha (${dtype === 'I64' ? "diffusers' convert_state_dict_to_kohya writes the rank as an integer" : 'kohya saves it in the save dtype'})`, async () => {
      const { tensors, made: m } = kohyaDefault(4, dtype === 'I64' ? 4 : 2, dtype);
      expectDeltas(await lora(tensors, `alpha-${dtype}.safetensors`), m);
    });
  }

  it('LoCon: 3×3 conv layers on resnets and samplers (down [r, in, 3, 3], up [out, r, 1, 1]) at their own rank', async () => {
    const tensors: Tensors = {};
    const m = new Map<string, Made>();
    const paths = ['down_blocks.0.resnets.0.conv1', 'down_blocks.0.resnets.0.conv2', 'down_blocks.0.downsamplers.0.conv', 'up_blocks.1.resnets.0.conv_shortcut', 'up_blocks.0.upsamplers.0.conv', 'down_blocks.0.resnets.0.time_emb_proj'];
    for (const path of paths) {
      const shape = UNET_MODULES.get(path)!;
      const conv = shape.length === 4;
      const r = conv ? 2 : 4; // kohya's conv_dim apart from network_dim
      const x = made(shape, r, 1 / r);
      const name = `lora_unet_${path.replace(/\./g, '_')}`;
      tensors[`${name}.lora_down.weight`] = f32(x.downShape, x.down);
      tensors[`${name}.lora_up.weight`] = f32(conv ? [x.out, r, 1, 1] : [x.out, r], x.up);
      tensors[`${name}.alpha`] = f32([], new Float32Array([1]));
      m.set(`unet:${path}`, x);
    }
    const back = await lora(tensors, 'locon.safetensors');
    expectDeltas(back, m);
    expect(effectiveDelta(layerOf(back, 'unet', 'down_blocks.0.resnets.0.conv1')).shape).toEqual(UNET_MODULES.get('down_blocks.0.resnets.0.conv1'));
  });

  describe('PEFT scaling from lora_adapter_metadata', () => {
    const K = 'down_blocks.0.attentions.0.transformer_blocks.0';
    const paths = [`${K}.attn1.to_v`, `${K}.attn2.to_k`, `${K}.attn2.to_v`, 'up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v'];

    function peft(config: Record<string, unknown>, scaleOf: (path: string, r: number) => number, rankOf: (path: string) => number = () => 4) {
      const tensors: Tensors = {};
      const m = new Map<string, Made>();
      for (const path of paths) {
        const r = rankOf(path);
        const x = made(UNET_MODULES.get(path)!, r, scaleOf(path, r));
        tensors[`unet.${path}.lora_A.weight`] = f32(x.downShape, x.down);
        tensors[`unet.${path}.lora_B.weight`] = f32([x.out, r], x.up);
        m.set(`unet:${path}`, x);
      }
      return { tensors, made: m, metadata: { lora_adapter_metadata: JSON.stringify(config) } };
    }

    it("alpha_pattern: {'attn2.to_v': 16} scales only the attn2.to_v layers by 16 / r (PEFT's get_pattern_key)", async () => {
      const f = peft({ 'unet.r': 4, 'unet.lora_alpha': 4, 'unet.alpha_pattern': { 'attn2.to_v': 16 }, 'unet.target_modules': ['to_k', 'to_v'] }, (p) => (p.endsWith('attn2.to_v') ? 16 / 4 : 1));
      expectDeltas(await lora(f.tensors, 'alpha-pattern.safetensors', f.metadata), f.made);
    });

    it('use_rslora: scale alpha / √r', async () => {
      const f = peft({ 'unet.r': 4, 'unet.lora_alpha': 8, 'unet.use_rslora': true }, (_, r) => 8 / Math.sqrt(r));
      expectDeltas(await lora(f.tensors, 'rslora.safetensors', f.metadata), f.made);
    });

    it('rank_pattern: a layer of another rank keeps lora_alpha / its own r', async () => {
      const f = peft(
        { 'unet.r': 4, 'unet.lora_alpha': 8, 'unet.rank_pattern': { [`${K}.attn2.to_k`]: 2 } },
        (_, r) => 8 / r,
        (p) => (p === `${K}.attn2.to_k` ? 2 : 4),
      );
      expectDeltas(await lora(f.tensors, 'rank-pattern.safetensors', f.metadata), f.made);
    });

    it('a rank the metadata contradicts is refused, naming the layer', async () => {
      const f = peft({ 'unet.r': 8, 'unet.lora_alpha': 8 }, () => 1);
      const error = await refusedImport(writeSafetensors(f.tensors, f.metadata), 'wrong-r.safetensors', TARGET);
      expect(error.reason).toBe('invalid');
      expect(error.message).toMatch(/attn1\.to_v' has rank 4, but its metadata says r = 8/);
    });

    it('text-encoder layers under text_encoder.text_model.…, scaled by text_encoder.lora_alpha', async () => {
      const path = 'encoder.layers.1.mlp.fc1';
      const x = made(TEXT_MODULES.get(path)!, 2, 3 / 2);
      const tensors = { [`text_encoder.text_model.${path}.lora_A.weight`]: f32(x.downShape, x.down), [`text_encoder.text_model.${path}.lora_B.weight`]: f32([x.out, 2], x.up) };
      const back = await lora(tensors, 'te.safetensors', { lora_adapter_metadata: JSON.stringify({ 'text_encoder.r': 2, 'text_encoder.lora_alpha': 3 }) });
      expectDeltas(back, new Map([[`text_encoder:${path}`, x]]));
    });
  });

  it('pre-PEFT diffusers naming: attention processors (to_k_lora, to_out_lora) and text-encoder lora_linear_layer', async () => {
    const K = 'mid_block.attentions.0.transformer_blocks.0';
    const tensors: Tensors = {};
    const m = new Map<string, Made>();
    const add = (key: string, component: 'unet' | 'text_encoder', path: string) => {
      const shape = (component === 'unet' ? UNET_MODULES : TEXT_MODULES).get(path)!;
      const x = made(shape, 2, 1);
      tensors[`${key}.down.weight`] = f32(x.downShape, x.down);
      tensors[`${key}.up.weight`] = f32([x.out, 2], x.up);
      m.set(`${component}:${path}`, x);
    };
    add(`unet.${K}.attn2.processor.to_k_lora`, 'unet', `${K}.attn2.to_k`);
    add(`unet.${K}.attn1.processor.to_out_lora`, 'unet', `${K}.attn1.to_out.0`);
    add('text_encoder.text_model.encoder.layers.0.self_attn.to_v_lora', 'text_encoder', 'encoder.layers.0.self_attn.v_proj');
    add('text_encoder.text_model.encoder.layers.1.self_attn.q_proj.lora_linear_layer', 'text_encoder', 'encoder.layers.1.self_attn.q_proj');
    const back = await lora(tensors, 'old.safetensors');
    expect(back.layout).toBe('diffusers-old');
    expectDeltas(back, m);

    // save_attn_procs wrote them without the `unet.` prefix
    const [outQ, inQ] = UNET_MODULES.get(`${K}.attn2.to_q`)!;
    const bare = { [`${K}.attn2.processor.to_q_lora.down.weight`]: f32([2, inQ], randomNormal(2 * inQ, 1)), [`${K}.attn2.processor.to_q_lora.up.weight`]: f32([outQ, 2], randomNormal(2 * outQ, 2)) };
    expect((await lora(bare, 'pytorch_lora_weights.safetensors')).layers.map((l) => l.path)).toEqual([`${K}.attn2.to_q`]);
  });

  it('mixed ranks and text-encoder and conv layers export back in both layouts and load identical', async () => {
    const { tensors, made: m } = kohyaDefault(4, 2);
    const conv = made(UNET_MODULES.get('down_blocks.0.resnets.0.conv1')!, 2, 8 / 2);
    tensors['lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight'] = f32(conv.downShape, conv.down);
    tensors['lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight'] = f32([conv.out, 2, 1, 1], conv.up);
    tensors['lora_unet_down_blocks_0_resnets_0_conv1.alpha'] = f32([], new Float32Array([8]));
    m.set('unet:down_blocks.0.resnets.0.conv1', conv);
    const first = await lora(tensors, 'mixed.safetensors');
    const concept = conceptFromImport(first, 'mixed.safetensors');
    for (const layout of ['kohya', 'peft'] as const) {
      const file = exportConcept(concept, { kind: 'lora', layout, dtype: 'F32' });
      const again = await importPersonalization(file.bytes, file.fileName, TARGET);
      if (again.kind !== 'lora') throw new Error('expected a LoRA');
      expect(again.layout).toBe(layout);
      expectDeltas(again, m);
    }
  });

  describe('kinds the studio does not apply', () => {
    function withLoha(): Tensors {
      const { tensors } = kohyaDefault(2, 2);
      for (const n of [0, 1]) {
        const name = `lora_unet_down_blocks_0_resnets_${n}_conv1`;
        for (const part of ['hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b']) tensors[`${name}.${part}`] = f32([2, 2], new Float32Array(4));
        tensors[`${name}.alpha`] = f32([], new Float32Array([1]));
      }
      tensors['lora_unet_up_blocks_1_attentions_0_proj_out.dora_scale'] = f32([1, 32], new Float32Array(32).fill(1));
      return tensors;
    }

    it('a file with LoHa and DoRA layers is refused by default, listing what would be left out', async () => {
      const error = await refusedImport(writeSafetensors(withLoha()), 'mixed-lycoris.safetensors', TARGET);
      expect(error.reason).toBe('partial');
      expect(error.name).toBe('ImportPartial');
      expect(error.message).toMatch(/LoHa layers: 2 ignored/);
      expect(error.message).toMatch(/DoRA layers: 1 ignored/);
    });

    it('with allowPartial the LoRA layers import and the rest is listed', async () => {
      const back = await lora(withLoha(), 'mixed-lycoris.safetensors', undefined, { allowPartial: true });
      expect(back.leftOut.map((l) => [l.kind, l.layers]).sort()).toEqual([
        ['DoRA', 1],
        ['LoHa', 2],
      ]);
      expect(back.layers.some((l) => l.path === 'up_blocks.1.attentions.0.proj_out')).toBe(false); // the DoRA module whole
      expect(back.layers.some((l) => l.path === 'down_blocks.0.attentions.0.proj_out')).toBe(true);
    });

    it('a LoHa-only or LoKr-only file is refused naming the kind', async () => {
      const loha = { 'lora_unet_down_blocks_0_resnets_0_conv1.hada_w1_a': f32([2, 2], new Float32Array(4)), 'lora_unet_down_blocks_0_resnets_0_conv1.alpha': f32([], new Float32Array([1])) };
      const error = await refusedImport(writeSafetensors(loha), 'loha.safetensors', TARGET);
      expect(error.reason).toBe('unsupported-layers');
      expect(error.message).toMatch(/LoHa layers: 1 ignored.*not LoHa, LoKr, DoRA/);
      const lokr = { 'lora_unet_down_blocks_0_resnets_0_conv1.lokr_w1': f32([2, 2], new Float32Array(4)) };
      expect((await refusedImport(writeSafetensors(lokr), 'lokr.safetensors', TARGET)).message).toMatch(/LoKr layers: 1 ignored/);
    });

    it('an SDXL LoRA (two text encoders) is refused as made for SDXL', async () => {
      const sdxl = { 'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight': f32([1, 32], new Float32Array(32)) };
      expect((await refusedImport(writeSafetensors(sdxl), 'sdxl.safetensors', TARGET)).message).toMatch(/made for SDXL/);
    });
  });

  describe('numbers that cannot be a LoRA', () => {
    const path = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k';
    const name = `lora_unet_${path.replace(/\./g, '_')}`;
    const base = (): Tensors => ({ [`${name}.lora_down.weight`]: f32([1, 32], new Float32Array(32).fill(0.1)), [`${name}.lora_up.weight`]: f32([32, 1], new Float32Array(32).fill(0.1)) });

    it('a NaN or Inf weight (F32 or F16 bits) is refused naming the tensor', async () => {
      const t = base();
      t[`${name}.lora_up.weight`] = f32([32, 1], new Float32Array(32).fill(NaN));
      expect((await refusedImport(writeSafetensors(t), 'nan.safetensors', TARGET)).message).toMatch(/lora_up.weight' holds NaN/);
      const h = base();
      h[`${name}.lora_down.weight`] = { dtype: 'F16', shape: [1, 32], data: new Uint16Array(32).fill(0x7c00) };
      expect((await refusedImport(writeSafetensors(h), 'inf.safetensors', TARGET)).message).toMatch(/lora_down.weight' holds Infinity/);
    });

    it('an alpha of 1e38, 0 or a PEFT lora_alpha of 1e300 is refused', async () => {
      for (const a of [1e38, 0, -1]) {
        const t = { ...base(), [`${name}.alpha`]: f32([], new Float32Array([a])) };
        expect((await refusedImport(writeSafetensors(t), 'alpha.safetensors', TARGET)).message).toMatch(/is not a LoRA alpha/);
      }
      const p = { [`unet.${path}.lora_A.weight`]: f32([1, 32], new Float32Array(32)), [`unet.${path}.lora_B.weight`]: f32([32, 1], new Float32Array(32)) };
      const meta = { lora_adapter_metadata: '{"unet.r": 1, "unet.lora_alpha": 1e300}' };
      expect((await refusedImport(writeSafetensors(p, meta), 'huge.safetensors', TARGET)).message).toMatch(/not a usable scale/);
      expect((await refusedImport(writeSafetensors(p, { lora_adapter_metadata: '{"unet.lora_alpha": ' }), 'broken.safetensors', TARGET)).message).toMatch(/not valid JSON/);
    });
  });
});
