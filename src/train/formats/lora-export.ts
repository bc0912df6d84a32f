/** Writes a UNet LoRA in the kohya or diffusers/PEFT layout (lora-layout.ts), with the studio's metadata. */
import type { UNetConfig } from '../../model/config';
import { f32ToF16, type SafetensorsTensor } from '../../model/safetensors-dtypes';
import { writeSafetensors } from '../../model/safetensors-writer';
import type { LoraTarget } from '../config';
import { crossAttentionLayers, type Lora } from '../lora';
import { FormatError } from './errors';
import { adaptableLinears, kohyaModuleName, type LoraDtype, type LoraLayerData, type LoraLayout } from './lora-layout';
import { commonMetadata, DIFFUSERS_ADAPTER_METADATA, META, type TrainingInfo } from './metadata';
import { safetensorsByteSize, type PlannedTensor } from './plan';

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

function exportKeys(layout: LoraLayout, path: string): { down: string; up: string; alpha?: string } {
  if (layout === 'kohya') {
    const m = kohyaModuleName(path);
    return { down: `${m}.lora_down.weight`, up: `${m}.lora_up.weight`, alpha: `${m}.alpha` };
  }
  return { down: `unet.${path}.lora_A.weight`, up: `unet.${path}.lora_B.weight` };
}

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
