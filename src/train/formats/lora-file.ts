/**
 * UNet LoRA files in the namings the ecosystem reads and writes. A layer adapts the linear at a
 * diffusers module path (`down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k`) with
 * down [r, in] and up [out, r]; the output adds (alpha / r) · up · down · x.
 *  - 'kohya' (sd-scripts; AUTOMATIC1111, ComfyUI, diffusers read it):
 *    `lora_unet_<path, '.' → '_'>.lora_down.weight`, `.lora_up.weight`, `.alpha` (F32 scalar []).
 *  - 'peft' (diffusers `save_lora_weights` today): `unet.<path>.lora_A.weight` (down),
 *    `unet.<path>.lora_B.weight` (up); alpha in `lora_adapter_metadata` (`unet.lora_alpha`).
 *  - 'diffusers-old' (import only; the studio's own training keys, `Lora.keys()`):
 *    `unet.<path>.lora.down.weight`, `.lora.up.weight`; no alpha (scale 1).
 * Pure data: no tensors are created on import or export.
 */
import type { UNetConfig } from '../../model/config';
import { f32ToF16, type SafetensorsTensor } from '../../model/safetensors-dtypes';
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { LORA_TARGETS, type LoraTarget } from '../config';
import { crossAttentionLayers, loraKey, type Lora, type LoraValue } from '../lora';
import { FormatError } from './errors';
import { commonMetadata, DIFFUSERS_ADAPTER_METADATA, META, readTrainingInfo, type TrainingInfo } from './metadata';
import { safetensorsByteSize, type PlannedTensor } from './plan';

export type LoraLayout = 'kohya' | 'peft';
export type LoraImportLayout = LoraLayout | 'diffusers-old';
export type LoraDtype = 'F32' | 'F16';

/** One adapted linear, values row-major. */
export interface LoraLayerData {
  down: Float32Array;
  up: Float32Array;
  /** [r, in] */
  downShape: [number, number];
  /** [out, r] */
  upShape: [number, number];
}

export interface LoraExport extends TrainingInfo {
  /** By module path. */
  layers: ReadonlyMap<string, LoraLayerData>;
  rank: number;
  alpha: number;
  targets: readonly LoraTarget[];
  /** The concept's token and class word, when the LoRA carries one (studio metadata). */
  token?: string;
  classWord?: string;
}

export interface ImportedLoraLayer extends LoraLayerData {
  rank: number;
  alpha: number;
}

export interface ImportedLora {
  kind: 'lora';
  layout: LoraImportLayout;
  /** Of the first layer (every layer's own is in `layers`). */
  rank: number;
  alpha: number;
  /** By our module path. */
  layers: Map<string, ImportedLoraLayer>;
  targets: LoraTarget[];
  info: TrainingInfo;
  metadata: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Key names

export const KOHYA_UNET_PREFIX = 'lora_unet_';

/** `down_blocks.0.….attn2.to_out.0` → `lora_unet_down_blocks_0_…_attn2_to_out_0`. */
export function kohyaModuleName(modulePath: string): string {
  return KOHYA_UNET_PREFIX + modulePath.replace(/\./g, '_');
}

function exportKeys(layout: LoraLayout, path: string): { down: string; up: string; alpha?: string } {
  if (layout === 'kohya') {
    const m = kohyaModuleName(path);
    return { down: `${m}.lora_down.weight`, up: `${m}.lora_up.weight`, alpha: `${m}.alpha` };
  }
  return { down: `unet.${path}.lora_A.weight`, up: `unet.${path}.lora_B.weight` };
}

/**
 * Every linear of this UNet a LoRA may adapt, with its [out, in]: in each transformer block the
 * attention projections of attn1 and attn2 and the feed-forward (GEGLU in, out), and proj_in /
 * proj_out where they are linear (SD 2.x). Training adapts attn2 only; imports may bring the rest.
 */
export function adaptableLinears(config: UNetConfig): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  const transformers = new Set<string>();
  for (const { prefix, channels: C } of crossAttentionLayers(config)) {
    const block = prefix.slice(0, -'.attn2'.length);
    for (const target of LORA_TARGETS) {
      const kv = target === 'to_k' || target === 'to_v';
      out.set(`${prefix}.${target}`, [C, kv ? config.crossAttentionDim : C]);
      out.set(`${block}.attn1.${target}`, [C, C]);
    }
    out.set(`${block}.ff.net.0.proj`, [8 * C, C]);
    out.set(`${block}.ff.net.2`, [C, 4 * C]);
    const transformer = block.replace(/\.transformer_blocks\.\d+$/, '');
    if (config.useLinearProjection && !transformers.has(transformer)) {
      transformers.add(transformer);
      out.set(`${transformer}.proj_in`, [C, C]);
      out.set(`${transformer}.proj_out`, [C, C]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Export

function loraMetadata(e: Omit<LoraExport, 'layers'>, paths: readonly string[], layout: LoraLayout, dtype: LoraDtype): Record<string, string> {
  const meta = commonMetadata('lora', layout, e);
  meta[META.rank] = String(e.rank);
  meta[META.alpha] = String(e.alpha);
  meta[META.targets] = e.targets.join(',');
  meta[META.dtype] = dtype;
  if (e.token) meta[META.token] = e.token;
  if (e.classWord) meta[META.classWord] = e.classWord;
  if (layout === 'peft') {
    // diffusers builds the LoraConfig from this (`_create_lora_config`); exact module paths so
    // that PEFT adapts only the layers in the file (a bare "to_k" would also match attn1).
    const config = { 'unet.lora_alpha': e.alpha, 'unet.r': e.rank, 'unet.target_modules': [...paths] };
    meta[DIFFUSERS_ADAPTER_METADATA] = JSON.stringify(config);
  }
  return meta;
}

function checkExport(e: LoraExport): void {
  if (!(Number.isInteger(e.rank) && e.rank >= 1)) throw new FormatError('invalid', `LoRA rank must be a positive integer, got ${e.rank}.`);
  if (!(Number.isFinite(e.alpha) && e.alpha > 0)) throw new FormatError('invalid', `LoRA alpha must be a positive number, got ${e.alpha}.`);
  for (const [path, l] of e.layers) {
    const [r, inF] = l.downShape;
    const [outF, r2] = l.upShape;
    if (r !== e.rank || r2 !== e.rank || l.down.length !== r * inF || l.up.length !== outF * r2) {
      throw new FormatError('invalid', `LoRA layer '${path}': down [${l.downShape}] and up [${l.upShape}] do not fit rank ${e.rank} and their data.`);
    }
  }
}

export function exportLora(e: LoraExport, layout: LoraLayout, dtype: LoraDtype = 'F32'): Uint8Array {
  checkExport(e);
  const tensors: Record<string, SafetensorsTensor> = {};
  const put = (name: string, shape: number[], values: Float32Array) => {
    tensors[name] = dtype === 'F16' ? { dtype, shape, data: f32ToF16(values) } : { dtype, shape, data: values };
  };
  for (const [path, l] of e.layers) {
    const keys = exportKeys(layout, path);
    put(keys.down, [...l.downShape], l.down);
    put(keys.up, [...l.upShape], l.up);
    if (keys.alpha) tensors[keys.alpha] = { dtype: 'F32', shape: [], data: new Float32Array([e.alpha]) };
  }
  return writeSafetensors(tensors, loraMetadata(e, [...e.layers.keys()], layout, dtype));
}

export interface LoraSizeOptions extends TrainingInfo {
  rank: number;
  alpha?: number;
  targets: readonly LoraTarget[];
  layout: LoraLayout;
  dtype: LoraDtype;
}

/** Exported size in bytes of a LoRA on `targets` of every attn2 of `config`, without building it. */
export function loraFileBytes(config: UNetConfig, o: LoraSizeOptions): number {
  const shapes = adaptableLinears(config);
  const paths = crossAttentionLayers(config).flatMap(({ prefix }) => o.targets.map((t) => `${prefix}.${t}`));
  const planned: PlannedTensor[] = paths.flatMap((path) => {
    const [outF, inF] = shapes.get(path)!;
    const keys = exportKeys(o.layout, path);
    const pair: PlannedTensor[] = [
      { name: keys.down, dtype: o.dtype, shape: [o.rank, inF] },
      { name: keys.up, dtype: o.dtype, shape: [outF, o.rank] },
    ];
    return keys.alpha ? [...pair, { name: keys.alpha, dtype: 'F32' as const, shape: [] }] : pair;
  });
  const meta = loraMetadata({ ...o, alpha: o.alpha ?? o.rank }, paths, o.layout, o.dtype);
  return safetensorsByteSize(planned, meta);
}

/** The export input of a trained `Lora` (reads its variables). */
export async function loraExportFrom(lora: Lora, targets: readonly LoraTarget[], info: TrainingInfo = {}): Promise<LoraExport> {
  const layers = new Map<string, LoraLayerData>();
  for (const l of lora.layers) {
    layers.set(l.prefix, {
      down: Float32Array.from(await l.down.data()),
      up: Float32Array.from(await l.up.data()),
      downShape: [l.down.shape[0], l.down.shape[1]],
      upShape: [l.up.shape[0], l.up.shape[1]],
    });
  }
  const rank = lora.layers[0]?.down.shape[0] ?? 1;
  return { ...info, layers, rank, alpha: lora.scale * rank, targets };
}

// ---------------------------------------------------------------------------------------------
// Import

const KOHYA_KEY = /^lora_unet_(.+)\.(lora_down\.weight|lora_up\.weight|alpha)$/;
const PEFT_KEY = /^unet\.(.+)\.lora_([AB])\.weight$/;
const OLD_KEY = /^unet\.(.+)\.lora\.(down|up)\.weight$/;
const TEXT_ENCODER_KEY = /^(lora_te\d?_|text_encoder(_2)?\.|te\d?\.)/;

type Part = 'down' | 'up' | 'alpha';

function classify(key: string): { layout: LoraImportLayout; module: string; part: Part } | null {
  let m = KOHYA_KEY.exec(key);
  if (m) return { layout: 'kohya', module: m[1], part: m[2] === 'alpha' ? 'alpha' : m[2].startsWith('lora_down') ? 'down' : 'up' };
  m = PEFT_KEY.exec(key);
  if (m) return { layout: 'peft', module: m[1], part: m[2] === 'A' ? 'down' : 'up' };
  m = OLD_KEY.exec(key);
  if (m) return { layout: 'diffusers-old', module: m[1], part: m[2] as 'down' | 'up' };
  return null;
}

/** True when any key uses one of the LoRA namings (UNet or text encoder). */
export function looksLikeLora(file: SafetensorsFile): boolean {
  return file.names().some((k) => classify(k) !== null || (TEXT_ENCODER_KEY.test(k) && /lora/.test(k)));
}

/** PEFT alpha: diffusers' adapter metadata, else ours, else rank. */
function peftAlpha(meta: Readonly<Record<string, string>>): number | undefined {
  const json = meta[DIFFUSERS_ADAPTER_METADATA];
  if (json !== undefined) {
    try {
      const parsed = JSON.parse(json) as Record<string, unknown>;
      const a = parsed['unet.lora_alpha'] ?? parsed['lora_alpha'];
      if (typeof a === 'number') return a;
    } catch {
      // fall through: a broken JSON string is not a reason to refuse the weights
    }
  }
  const ours = meta[META.alpha] === undefined ? NaN : Number(meta[META.alpha]);
  return Number.isFinite(ours) && ours > 0 ? ours : undefined;
}

/**
 * Reads a UNet LoRA and maps it onto `config`'s modules (`adaptableLinears`); refuses
 * text-encoder layers, modules the UNet lacks or the studio cannot adapt (convolutions: LoCon,
 * SD 1.x proj_in/out) and shapes that do not fit.
 */
export async function readLora(file: SafetensorsFile, config: UNetConfig, fileName: string): Promise<ImportedLora> {
  const keys = file.names();
  const te = keys.filter((k) => TEXT_ENCODER_KEY.test(k));
  if (te.length > 0) {
    throw new FormatError('unknown-module', `${fileName}: has ${te.length} text-encoder LoRA tensors (e.g. '${te[0]}'); the studio applies LoRA to the UNet only.`);
  }
  const unknown = keys.filter((k) => classify(k) === null);
  if (unknown.length > 0) throw new FormatError('unknown-format', `${fileName}: ${unknown.length} tensors are not LoRA weights (e.g. '${unknown[0]}').`);
  const classified = keys.map((k) => ({ key: k, ...classify(k)! }));
  const layouts = [...new Set(classified.map((c) => c.layout))];
  if (layouts.length !== 1) throw new FormatError('invalid', `${fileName}: mixes LoRA namings (${layouts.join(', ')}).`);
  const layout = layouts[0];

  const linears = adaptableLinears(config);
  const byKohyaName = new Map([...linears.keys()].map((p) => [kohyaModuleName(p).slice(KOHYA_UNET_PREFIX.length), p]));
  const supported = `the transformer linears of this UNet (attention, feed-forward${config.useLinearProjection ? ', proj_in/out' : ''}; convolutions are not adapted)`;

  const parts = new Map<string, Partial<Record<Part, string>>>();
  for (const c of classified) {
    const path = layout === 'kohya' ? byKohyaName.get(c.module) : linears.has(c.module) ? c.module : undefined;
    if (path === undefined) {
      const shown = layout === 'kohya' ? KOHYA_UNET_PREFIX + c.module : c.module;
      throw new FormatError('unknown-module', `${fileName}: LoRA layer '${shown}' is not one of ${supported}; the file was made for another model or adapts layers the studio does not.`);
    }
    const entry = parts.get(path) ?? {};
    entry[c.part] = c.key;
    parts.set(path, entry);
  }

  const meta = file.metadata;
  const fileAlpha = layout === 'peft' ? peftAlpha(meta) : undefined;
  const layers = new Map<string, ImportedLoraLayer>();
  for (const [path, p] of parts) {
    if (!p.down || !p.up) throw new FormatError('invalid', `${fileName}: LoRA layer '${path}' has no ${p.down ? 'up' : 'down'} weight.`);
    const ds = file.info(p.down).shape;
    const us = file.info(p.up).shape;
    const [outF, inF] = linears.get(path)!;
    if (ds.length !== 2 || us.length !== 2 || ds[1] !== inF || us[0] !== outF || us[1] !== ds[0]) {
      throw new FormatError(
        'shape-mismatch',
        `${fileName}: LoRA layer '${path}' has down [${ds}] and up [${us}], but this UNet's linear is [${outF}, ${inF}] (down [r, ${inF}], up [${outF}, r] fit); the file was made for another model.`,
      );
    }
    const rank = ds[0];
    let alpha = fileAlpha ?? rank;
    if (p.alpha) {
      const a = await file.readFloat32(p.alpha);
      if (a.length !== 1 || !(Number.isFinite(a[0]) && a[0] > 0)) throw new FormatError('invalid', `${fileName}: '${p.alpha}' is not one positive number.`);
      alpha = a[0];
    }
    layers.set(path, {
      down: Float32Array.from(await file.readFloat32(p.down)),
      up: Float32Array.from(await file.readFloat32(p.up)),
      downShape: [ds[0], ds[1]],
      upShape: [us[0], us[1]],
      rank,
      alpha,
    });
  }
  if (layers.size === 0) throw new FormatError('unknown-format', `${fileName}: no LoRA layers.`);
  const first = layers.values().next().value!;
  const targets = LORA_TARGETS.filter((t) => [...layers.keys()].some((p) => p.endsWith(`.attn2.${t}`)));
  return { kind: 'lora', layout, rank: first.rank, alpha: first.alpha, layers, targets, info: readTrainingInfo(meta), metadata: meta };
}

/**
 * Values for `Lora.fromValues(unet, values, scale)`: one scale for all layers (the first's
 * alpha / r); a layer with another alpha / r gets the ratio folded into its up weight.
 */
export function toLoraValues(lora: ImportedLora): { values: Map<string, LoraValue>; scale: number } {
  const scale = lora.alpha / lora.rank;
  const values = new Map<string, LoraValue>();
  for (const [path, l] of lora.layers) {
    const ratio = l.alpha / l.rank / scale;
    values.set(loraKey(path, 'down'), { shape: [...l.downShape], data: l.down });
    values.set(loraKey(path, 'up'), { shape: [...l.upShape], data: ratio === 1 ? l.up : l.up.map((v) => v * ratio) });
  }
  return { values, scale };
}
