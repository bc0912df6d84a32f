/**
 * Writes a LoRA in the kohya or diffusers/PEFT layout (lora-layout.ts), with the studio's
 * metadata. Every layer keeps its own rank and alpha: kohya stores each layer's `.alpha`; PEFT
 * stores the most common r and lora_alpha per component and the others in rank_pattern /
 * alpha_pattern, keyed by the exact module name so that each pattern matches one module.
 */
import type { UNetConfig } from '../../model/config';
import { f32ToF16, type SafetensorsTensor } from '../../model/safetensors-dtypes';
import { writeSafetensors } from '../../model/safetensors-writer';
import type { LoraTarget } from '../config';
import type { Lora } from '../lora';
import { FormatError } from './errors';
import { layerRank, mostCommon, storedUpShape, type LoraDtype, type LoraLayout, type LoraModuleLayer } from './lora-layout';
import { crossAttentionLayers, kohyaModuleName, LORA_COMPONENTS, peftModuleName, unetModules, type LoraComponent } from './lora-modules';
import { commonMetadata, DIFFUSERS_ADAPTER_METADATA, META, type TrainingInfo } from './metadata';
import { safetensorsByteSize, type PlannedTensor } from './plan';

export interface LoraExport extends TrainingInfo {
  layers: readonly LoraModuleLayer[];
  /** The attn2 linears trained (studio metadata); default: read from the layers. */
  targets?: readonly LoraTarget[];
  /** The concept's token and class word, when the LoRA carries one (studio metadata). */
  token?: string;
  classWord?: string;
}

type LayerKeys = { down: string; up: string; alpha?: string };

function exportKeys(layout: LoraLayout, component: LoraComponent, path: string): LayerKeys {
  if (layout === 'kohya') {
    const m = kohyaModuleName(component, path);
    return { down: `${m}.lora_down.weight`, up: `${m}.lora_up.weight`, alpha: `${m}.alpha` };
  }
  const m = `${component}.${peftModuleName(component, path)}`;
  return { down: `${m}.lora_A.weight`, up: `${m}.lora_B.weight` };
}

type LayerShape = Pick<LoraModuleLayer, 'component' | 'path' | 'downShape' | 'alpha'>;

/** diffusers' LoraConfig per component: most common r / alpha, the others as patterns. */
function peftConfig(layers: readonly LayerShape[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const component of LORA_COMPONENTS) {
    const own = layers.filter((l) => l.component === component);
    if (own.length === 0) continue;
    const r = mostCommon(own.map(layerRank));
    const alpha = mostCommon(own.map((l) => l.alpha));
    const rankPattern: Record<string, number> = {};
    const alphaPattern: Record<string, number> = {};
    for (const l of own) {
      const name = peftModuleName(component, l.path);
      if (layerRank(l) !== r) rankPattern[name] = layerRank(l);
      if (l.alpha !== alpha) alphaPattern[name] = l.alpha;
    }
    Object.assign(config, {
      [`${component}.r`]: r,
      [`${component}.lora_alpha`]: alpha,
      [`${component}.rank_pattern`]: rankPattern,
      [`${component}.alpha_pattern`]: alphaPattern,
      [`${component}.use_rslora`]: false,
      // exact module names, so that PEFT adapts only the layers in the file
      [`${component}.target_modules`]: own.map((l) => peftModuleName(component, l.path)),
    });
  }
  return config;
}

function loraMetadata(e: Omit<LoraExport, 'layers'>, layers: readonly LayerShape[], layout: LoraLayout, dtype: LoraDtype): Record<string, string> {
  const meta = commonMetadata('lora', layout, e);
  const targets = e.targets ?? targetsOf(layers);
  meta[META.rank] = String(mostCommon(layers.map(layerRank)));
  meta[META.alpha] = String(mostCommon(layers.map((l) => l.alpha)));
  meta[META.targets] = targets.join(',');
  meta[META.dtype] = dtype;
  if (e.token) meta[META.token] = e.token;
  if (e.classWord) meta[META.classWord] = e.classWord;
  if (layout === 'peft') meta[DIFFUSERS_ADAPTER_METADATA] = JSON.stringify(peftConfig(layers));
  return meta;
}

function targetsOf(layers: readonly Pick<LayerShape, 'component' | 'path'>[]): LoraTarget[] {
  return (['to_q', 'to_k', 'to_v', 'to_out.0'] as const).filter((t) => layers.some((l) => l.component === 'unet' && l.path.endsWith(`.attn2.${t}`)));
}

function checkExport(e: LoraExport): void {
  if (e.layers.length === 0) throw new FormatError('invalid', 'A LoRA file needs at least one layer.');
  const seen = new Set<string>();
  for (const l of e.layers) {
    const id = `${l.component}.${l.path}`;
    if (seen.has(id)) throw new FormatError('invalid', `LoRA layer '${id}' appears twice.`);
    seen.add(id);
    const r = layerRank(l);
    const inner = l.downShape.slice(1).reduce((a, b) => a * b, 1);
    const [outF, r2] = l.upShape;
    if (!(Number.isInteger(r) && r >= 1) || ![2, 4].includes(l.downShape.length) || r2 !== r || l.down.length !== r * inner || l.up.length !== outF * r) {
      throw new FormatError('invalid', `LoRA layer '${id}': down [${l.downShape}] and up [${l.upShape}] do not fit each other and their data.`);
    }
    if (!(Number.isFinite(l.alpha) && l.alpha > 0)) throw new FormatError('invalid', `LoRA layer '${id}': alpha must be a positive number, got ${l.alpha}.`);
  }
}

export function exportLora(e: LoraExport, layout: LoraLayout, dtype: LoraDtype = 'F32'): Uint8Array {
  checkExport(e);
  const tensors: Record<string, SafetensorsTensor> = {};
  const put = (name: string, shape: number[], values: Float32Array) => {
    tensors[name] = dtype === 'F16' ? { dtype, shape, data: f32ToF16(values) } : { dtype, shape, data: values };
  };
  for (const l of e.layers) {
    const keys = exportKeys(layout, l.component, l.path);
    put(keys.down, [...l.downShape], l.down);
    put(keys.up, storedUpShape(l), l.up);
    if (keys.alpha) tensors[keys.alpha] = { dtype: 'F32', shape: [], data: new Float32Array([l.alpha]) };
  }
  return writeSafetensors(tensors, loraMetadata(e, e.layers, layout, dtype));
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
  const shapes = unetModules(config);
  const layers: LayerShape[] = crossAttentionLayers(config).flatMap(({ prefix }) =>
    o.targets.map((t) => {
      const path = `${prefix}.${t}`;
      return { component: 'unet' as const, path, downShape: [o.rank, shapes.get(path)![1]], alpha: o.alpha ?? o.rank };
    }),
  );
  const planned: PlannedTensor[] = layers.flatMap((l) => {
    const [outF] = shapes.get(l.path)!;
    const keys = exportKeys(o.layout, 'unet', l.path);
    const pair: PlannedTensor[] = [
      { name: keys.down, dtype: o.dtype, shape: l.downShape },
      { name: keys.up, dtype: o.dtype, shape: [outF, o.rank] },
    ];
    return keys.alpha ? [...pair, { name: keys.alpha, dtype: 'F32' as const, shape: [] }] : pair;
  });
  return safetensorsByteSize(planned, loraMetadata(o, layers, o.layout, o.dtype));
}

/** The export input of a trained `Lora` (reads its variables). */
export async function loraExportFrom(lora: Lora, targets: readonly LoraTarget[], info: TrainingInfo = {}): Promise<LoraExport> {
  const layers: LoraModuleLayer[] = [];
  for (const l of lora.layers) {
    layers.push({
      component: lora.component,
      path: l.prefix,
      down: Float32Array.from(await l.down.data()),
      up: Float32Array.from(await l.up.data()),
      downShape: [...l.down.shape],
      upShape: [l.up.shape[0], l.up.shape[1]],
      alpha: lora.scale * l.down.shape[0],
    });
  }
  return { ...info, layers, targets };
}
