/**
 * Reads a UNet LoRA in any layout of lora-layout.ts and maps it onto a UNet config's modules;
 * refusals name the layer and the reason.
 */
import type { UNetConfig } from '../../model/config';
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { LORA_TARGETS, type LoraTarget } from '../config';
import { loraKey, type LoraValue } from '../lora';
import { FormatError } from './errors';
import { adaptableLinears, KOHYA_UNET_PREFIX, kohyaModuleName, type LoraImportLayout, type LoraLayerData } from './lora-layout';
import { DIFFUSERS_ADAPTER_METADATA, META, readTrainingInfo, type TrainingInfo } from './metadata';

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
