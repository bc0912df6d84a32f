/**
 * Perfusion concepts (key-locked rank-1 edits, `library/concept.ts` ConceptPerfusion) as files, in
 * a layout of ours: no common one exists. F32 (as the studio's embeddings); keys:
 *
 *   "<attn2 path>.key"        [width]   the layer's locked key target o_K = W_k i_super
 *   "<attn2 path>.value"      [width]   its learned value target v*
 *   … both for every attn2 of the UNet (16 for SD 1.x; width its channels: 320/640/1280) …
 *   "perfusion.i_star"        [dim]     the concept input i*
 *   "perfusion.c_inv_i_star"  [dim]     C⁻¹ i*
 *   "perfusion.embedding"     [1, dim]  the token's embedding
 *
 * with `__metadata__` studio.kind "perfusion", studio.layout "key-locked", studio.token,
 * studio.class_word, studio.vectors (1), studio.dim, studio.layers (the layer count),
 * studio.gate_bias, studio.gate_temperature and the common keys (metadata.ts). Read back in the
 * model's forward order (`model/cross-attention.ts`): every attn2 of the model must be there, at
 * its width. The export also writes the embedding as a single-key TI file for other tools.
 */
import type { UNetConfig } from '../../model/config';
import type { PerfusionEdit } from '../perfusion-concept';
import { crossAttentionLayerList } from '../../model/cross-attention';
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { writeSafetensors } from '../../model/safetensors-writer';
import { FormatError, modelTextWidth, refuseNonFinite } from './errors';
import { commonMetadata, META, readTrainingInfo, type TrainingInfo } from './metadata';

export const PERFUSION_KIND = 'perfusion';
const LAYOUT = 'key-locked';
export const PERFUSION_KEYS = { iStar: 'perfusion.i_star', cInvIStar: 'perfusion.c_inv_i_star', embedding: 'perfusion.embedding' } as const;
export const PERFUSION_META = { layers: 'studio.layers', gateBias: 'studio.gate_bias', gateTemperature: 'studio.gate_temperature' } as const;
/** Where a file names no gate: the method's defaults (`ConceptPerfusion`). */
const DEFAULT_GATE = { bias: 0.7, temperature: 0.15 };

/** What a Perfusion concept holds, as `ConceptPerfusion` plus the token's vector. */
export interface PerfusionWeights extends PerfusionEdit {
  gateBias: number;
  gateTemperature: number;
}

export interface PerfusionExport extends TrainingInfo {
  token: string;
  classWord?: string;
  /** The token's embedding, [dim]. */
  embedding: Float32Array;
  perfusion: PerfusionWeights;
}

export interface ImportedPerfusion {
  kind: 'perfusion';
  token: string;
  classWord?: string;
  dim: number;
  embedding: Float32Array;
  perfusion: PerfusionWeights;
  info: TrainingInfo;
  metadata: Readonly<Record<string, string>>;
  /** Set by `importPersonalization` where the file's token was invalid and `token` comes from the file name. */
  tokenNote?: string;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function exportPerfusion(e: PerfusionExport): Uint8Array {
  const p = e.perfusion;
  const D = e.embedding.length;
  const total = sum(p.widths);
  if (p.layers.length === 0 || p.widths.length !== p.layers.length || p.keys.length !== total || p.values.length !== total || p.iStar.length !== D || p.cInvIStar.length !== D) {
    throw new FormatError('invalid', `Perfusion concept '${e.token}': its keys (${p.keys.length}), values (${p.values.length}), i* (${p.iStar.length}) and C⁻¹ i* (${p.cInvIStar.length}) do not fit ${p.layers.length} layers of ${total} channels in all and a ${D}-wide embedding.`);
  }
  const f32 = (data: Float32Array, shape: number[]) => ({ dtype: 'F32' as const, shape, data });
  const tensors: Record<string, ReturnType<typeof f32>> = {};
  let offset = 0;
  for (const [l, path] of p.layers.entries()) {
    const w = p.widths[l];
    tensors[`${path}.key`] = f32(p.keys.subarray(offset, offset + w), [w]);
    tensors[`${path}.value`] = f32(p.values.subarray(offset, offset + w), [w]);
    offset += w;
  }
  tensors[PERFUSION_KEYS.iStar] = f32(p.iStar, [D]);
  tensors[PERFUSION_KEYS.cInvIStar] = f32(p.cInvIStar, [D]);
  tensors[PERFUSION_KEYS.embedding] = f32(e.embedding, [1, D]);
  const meta = commonMetadata(PERFUSION_KIND, LAYOUT, e);
  meta[META.token] = e.token;
  if (e.classWord !== undefined) meta[META.classWord] = e.classWord;
  meta[META.vectors] = '1';
  meta[META.dim] = String(D);
  meta[PERFUSION_META.layers] = String(p.layers.length);
  meta[PERFUSION_META.gateBias] = String(p.gateBias);
  meta[PERFUSION_META.gateTemperature] = String(p.gateTemperature);
  return writeSafetensors(tensors, meta);
}

/** Ours by its metadata, or by its i* key. */
export function looksLikePerfusion(file: SafetensorsFile): boolean {
  return file.metadata[META.kind] === PERFUSION_KIND || file.has(PERFUSION_KEYS.iStar);
}

function gateValue(meta: Readonly<Record<string, string>>, key: string, fallback: number, ok: (v: number) => boolean, name: string, rule: string): number {
  if (meta[key] === undefined) return fallback;
  const v = Number(meta[key]);
  if (!Number.isFinite(v) || !ok(v)) throw new FormatError('invalid', `${name}: its ${key} ${JSON.stringify(meta[key])} is not ${rule}.`);
  return v;
}

export async function readPerfusion(file: SafetensorsFile, target: { textDim: number; unet: UNetConfig; modelName?: string }): Promise<ImportedPerfusion> {
  const name = file.fileName;
  const model = target.modelName ?? 'this model';
  const list = crossAttentionLayerList(target.unet);
  const expected = new Set([...list.flatMap((l) => [`${l.path}.key`, `${l.path}.value`]), ...Object.values(PERFUSION_KEYS)]);
  const missing = [...expected].filter((k) => !file.has(k));
  const extra = file.names().filter((n) => !expected.has(n));
  if (missing.length || extra.length) {
    const what = [missing.length && `lacks ${missing.length} of the ${expected.size} tensors ${model} needs (e.g. '${missing[0]}')`, extra.length && `has tensors ${model} has no place for (e.g. '${extra[0]}')`].filter(Boolean).join(' and ');
    throw new FormatError('invalid', `${name} is a Perfusion concept that ${what}.`);
  }
  const D = target.textDim;
  const read = async (key: string, width: number, what: string) => {
    const { shape } = file.info(key);
    if (shape.reduce((a, b) => a * b, 1) !== width || shape[shape.length - 1] !== width) throw new FormatError('invalid', `${name}: '${key}' is [${shape}]; ${what} is ${width} wide.`);
    const values = await file.readFloat32(key); // F32, F16 or BF16
    refuseNonFinite(values, `${name}: '${key}'`, 'every value must be finite');
    return values;
  };
  const widths = list.map((l) => l.channels);
  const keys = new Float32Array(sum(widths));
  const values = new Float32Array(sum(widths));
  let offset = 0;
  for (const l of list) {
    keys.set(await read(`${l.path}.key`, l.channels, `the layer (in ${model})`), offset);
    values.set(await read(`${l.path}.value`, l.channels, `the layer (in ${model})`), offset);
    offset += l.channels;
  }
  const textWidth = modelTextWidth(D, target.modelName);
  const iStar = await read(PERFUSION_KEYS.iStar, D, textWidth);
  const cInvIStar = await read(PERFUSION_KEYS.cInvIStar, D, textWidth);
  const embedding = await read(PERFUSION_KEYS.embedding, D, textWidth);
  const meta = file.metadata;
  const gateBias = gateValue(meta, PERFUSION_META.gateBias, DEFAULT_GATE.bias, isGateBias, name, `a number in [${GATE_BIAS_RANGE}]`);
  const gateTemperature = gateValue(meta, PERFUSION_META.gateTemperature, DEFAULT_GATE.temperature, (v) => v > 0, name, 'a positive number');
  const token = meta[META.token] ?? `<${name.replace(/\.safetensors$/i, '')}>`;
  return {
    kind: 'perfusion',
    token,
    ...(meta[META.classWord] !== undefined && { classWord: meta[META.classWord] }),
    dim: D,
    embedding,
    perfusion: { layers: list.map((l) => l.path), widths, keys, values, iStar, cInvIStar, gateBias, gateTemperature },
    info: readTrainingInfo(meta),
    metadata: meta,
  };
}

/** The gate bias β a concept may hold: the sigmoid's threshold on the key similarity (a cosine-like score). */
export const GATE_BIAS_RANGE = [0, 1.5] as const;

export function isGateBias(v: number): boolean {
  return Number.isFinite(v) && v >= GATE_BIAS_RANGE[0] && v <= GATE_BIAS_RANGE[1];
}
