/**
 * Reads a LoRA in any layout of lora-layout.ts and maps it onto the model's modules
 * (lora-modules.ts: UNet linears and convolutions, text-encoder linears), each layer with the
 * alpha that gives the scale its maker's tool applies (kohya `.alpha`, PEFT patterns and rsLoRA).
 * Layers of kinds the studio does not apply (LoHa, LoKr, DoRA, …) are left out only when the
 * caller allows it; otherwise the file is refused listing them. Refusals name the key and reason.
 */
import type { SafetensorsFile } from '../../model/safetensors-reader';
import { LORA_TARGETS, type LoraTarget } from '../config';
import { FormatError, refuseNonFinite } from './errors';
import { classifyLoraKey, type LoraKey, type LoraPart } from './lora-keys';
import { layerRank, type LoraImportLayout, type LoraModuleLayer } from './lora-layout';
import { componentModules, isConvShape, KOHYA_PREFIX, kohyaModuleName, peftModuleName, type LoraComponent, type LoraModels } from './lora-modules';
import { readTrainingInfo, type TrainingInfo } from './metadata';
import { peftAlpha, peftScaling, type PeftScaling } from './peft-scaling';

/** Layers of one unsupported kind that an import leaves out. */
export interface LeftOut {
  /** 'LoHa', 'DoRA', … */
  kind: string;
  layers: number;
  /** One of their tensor names. */
  example: string;
}

export interface ImportedLora {
  kind: 'lora';
  layout: LoraImportLayout;
  /** Of the first layer (every layer's own is in `layers`). */
  rank: number;
  alpha: number;
  layers: LoraModuleLayer[];
  /** The attn2 linears the UNet layers adapt (what the studio's own training would call them). */
  targets: LoraTarget[];
  info: TrainingInfo;
  metadata: Readonly<Record<string, string>>;
  leftOut: LeftOut[];
  /** Its token, set by `importPersonalization` (import-token.ts). */
  token?: string;
  /** Why the file's own token was replaced by one from its name. */
  tokenNote?: string;
}

export interface LoraReadOptions {
  /** Leave out layers of unsupported kinds (listed in `leftOut`) instead of refusing the file. */
  allowPartial?: boolean;
}

/** The largest alpha accepted: far above any real file's, and finite in F16. */
const MAX_ALPHA = 65504;

/** True when any key uses one of the LoRA namings. */
export function looksLikeLora(file: SafetensorsFile): boolean {
  return file.names().some((k) => classifyLoraKey(k) !== null);
}

/** "LoHa layers: 12 ignored; DoRA layers: 3 ignored" */
export function describeLeftOut(leftOut: readonly LeftOut[]): string {
  return leftOut.map((l) => `${l.kind} layers: ${l.layers} ignored (e.g. '${l.example}')`).join('; ');
}

interface Entry {
  component: LoraComponent;
  path: string;
  /** The module's weight shape: [out, in] or [out, in, kh, kw]. */
  weight: number[];
  parts: Partial<Record<LoraPart, string>>;
  unsupported?: { kind: string; key: string };
}

async function scalar(file: SafetensorsFile, key: string, fileName: string): Promise<number> {
  const { dtype, shape } = file.info(key);
  if (shape.reduce((a, b) => a * b, 1) !== 1) throw new FormatError('invalid', `${fileName}: '${key}' holds [${shape}] values, not one alpha.`);
  // diffusers' convert_state_dict_to_kohya writes the alpha as an I64 (its value is the rank)
  const value = dtype === 'I64' ? Number(((await file.read(key)) as BigInt64Array)[0]) : (await file.readFloat32(key))[0];
  if (!(Number.isFinite(value) && value > 0 && value <= MAX_ALPHA)) throw new FormatError('invalid', `${fileName}: '${key}' = ${value} is not a LoRA alpha (a positive number up to ${MAX_ALPHA}).`);
  return value;
}

async function finiteValues(file: SafetensorsFile, key: string, fileName: string): Promise<Float32Array> {
  const values = Float32Array.from(await file.readFloat32(key)); // a copy: never a view of the caller's bytes
  refuseNonFinite(values, `${fileName}: '${key}'`, "a LoRA's weights must be finite numbers");
  return values;
}

/** Maps each classified key onto a module of `models`, or refuses naming it. */
function placeKeys(file: SafetensorsFile, models: LoraModels, fileName: string): { layout: LoraImportLayout; entries: Map<string, Entry> } {
  const keys = file.names();
  const classified: [string, LoraKey][] = [];
  const foreign: string[] = [];
  for (const key of keys) {
    const c = classifyLoraKey(key);
    if (c) classified.push([key, c]);
    else foreign.push(key);
  }
  if (foreign.length > 0) throw new FormatError('unknown-format', `${fileName}: ${foreign.length} tensors are not LoRA weights (e.g. '${foreign[0]}').`);
  const sdxl = classified.find(([, c]) => c.component === 'sdxl');
  if (sdxl) throw new FormatError('unknown-module', `${fileName}: '${sdxl[0]}' belongs to a second text encoder: the file was made for SDXL, and this is an SD 1.x/2.x model.`);
  const layouts = [...new Set(classified.map(([, c]) => c.layout))];
  if (layouts.length !== 1) throw new FormatError('invalid', `${fileName}: mixes LoRA namings (${layouts.join(', ')}).`);

  const modules = { unet: componentModules(models, 'unet'), text_encoder: componentModules(models, 'text_encoder') };
  const kohyaNames = new Map<string, string>();
  for (const component of ['unet', 'text_encoder'] as const) {
    for (const path of modules[component].keys()) kohyaNames.set(kohyaModuleName(component, path), path);
  }
  const entries = new Map<string, Entry>();
  for (const [key, c] of classified) {
    const component = c.component as LoraComponent;
    const path = c.layout === 'kohya' ? kohyaNames.get(KOHYA_PREFIX[component] + c.module) : modules[component].has(c.module) ? c.module : undefined;
    if (path === undefined) {
      if (component === 'text_encoder' && !models.text) throw new FormatError('unknown-module', `${fileName}: '${key}' adapts the text encoder, which is not available here.`);
      const what = component === 'unet' ? "this UNet's linears and convolutions" : "this text encoder's attention projections and MLP";
      throw new FormatError('unknown-module', `${fileName}: LoRA layer '${key}' is not on one of ${what}; the file was made for another model.`);
    }
    const id = `${component}:${path}`;
    const entry = entries.get(id) ?? { component, path, weight: modules[component].get(path)!, parts: {} };
    if (c.unsupported) entry.unsupported ??= { kind: c.unsupported, key };
    else entry.parts[c.part!] = key;
    entries.set(id, entry);
  }
  return { layout: layouts[0], entries };
}

export async function readLora(file: SafetensorsFile, models: LoraModels, fileName: string, options: LoraReadOptions = {}): Promise<ImportedLora> {
  const { layout, entries } = placeKeys(file, models, fileName);
  const left = new Map<string, LeftOut>();
  const supported: Entry[] = [];
  for (const e of entries.values()) {
    if (!e.unsupported) {
      supported.push(e);
      continue;
    }
    const l = left.get(e.unsupported.kind) ?? { kind: e.unsupported.kind, layers: 0, example: e.unsupported.key };
    l.layers++;
    left.set(e.unsupported.kind, l);
  }
  const leftOut = [...left.values()];
  if (supported.length === 0) {
    throw new FormatError('unsupported-layers', `${fileName}: ${describeLeftOut(leftOut)}. The studio applies LoRA and LoCon layers only (not LoHa, LoKr, DoRA or full weight differences).`);
  }
  if (leftOut.length > 0 && !options.allowPartial) {
    throw new FormatError('partial', `${fileName}: ${describeLeftOut(leftOut)}; ${supported.length} LoRA layers can be imported without them, but the result is not what the file's maker meant.`);
  }

  const meta = file.metadata;
  const scaling: Record<LoraComponent, PeftScaling | null> =
    layout === 'peft' ? { unet: peftScaling(meta, 'unet', fileName), text_encoder: peftScaling(meta, 'text_encoder', fileName) } : { unet: null, text_encoder: null };
  const layers: LoraModuleLayer[] = [];
  for (const e of supported) {
    const { down, up, alpha: alphaKey } = e.parts;
    if (!down || !up) throw new FormatError('invalid', `${fileName}: LoRA layer '${e.path}' has no ${down ? 'up' : 'down'} weight.`);
    const ds = file.info(down).shape;
    const us = file.info(up).shape;
    const { weight } = e;
    checkShapes(e.path, weight, ds, us, fileName);
    const rank = ds[0];
    const s = scaling[e.component];
    if (s?.useDora) throw new FormatError('unsupported-layers', `${fileName}: a DoRA adapter (use_dora); the studio applies plain LoRA only.`);
    let alpha = s ? peftAlpha(s, peftModuleName(e.component, e.path), rank, fileName) : rank;
    if (!s && alphaKey) alpha = await scalar(file, alphaKey, fileName);
    if (!(Number.isFinite(alpha) && alpha > 0 && alpha / rank <= MAX_ALPHA)) {
      throw new FormatError('invalid', `${fileName}: LoRA layer '${e.path}' has alpha ${alpha} for rank ${rank}, not a usable scale (a positive number up to ${MAX_ALPHA}).`);
    }
    layers.push({
      component: e.component,
      path: e.path,
      down: await finiteValues(file, down, fileName),
      up: await finiteValues(file, up, fileName),
      downShape: isConvShape(weight) && ds.length === 2 ? [ds[0], ds[1], 1, 1] : [...ds],
      upShape: [us[0], us[1]],
      alpha,
    });
  }
  const [first] = layers;
  const targets = LORA_TARGETS.filter((t) => layers.some((l) => l.component === 'unet' && l.path.endsWith(`.attn2.${t}`)));
  return { kind: 'lora', layout, rank: layerRank(first), alpha: first.alpha, layers, targets, info: readTrainingInfo(meta), metadata: meta, leftOut };
}

/** down [r, in] / up [out, r] for a linear [out, in]; down [r, in, kh, kw] / up [out, r(, 1, 1)] for a conv. */
function checkShapes(path: string, weight: number[], ds: readonly number[], us: readonly number[], fileName: string): void {
  const [outF, inF] = weight;
  const conv = isConvShape(weight);
  const downFits = conv
    ? (ds.length === 4 && ds[1] === inF && ds[2] === weight[2] && ds[3] === weight[3]) || (weight[2] === 1 && weight[3] === 1 && ds.length === 2 && ds[1] === inF)
    : ds.length === 2 && ds[1] === inF;
  const upFits = us[0] === outF && us[1] === ds[0] && (us.length === 2 || (us.length === 4 && us[2] === 1 && us[3] === 1));
  if (!downFits || !upFits || !(ds[0] >= 1)) {
    const want = conv ? `down [r, ${inF}, ${weight[2]}, ${weight[3]}], up [${outF}, r, 1, 1]` : `down [r, ${inF}], up [${outF}, r]`;
    throw new FormatError(
      'shape-mismatch',
      `${fileName}: LoRA layer '${path}' has down [${ds}] and up [${us}], but this model's ${conv ? 'convolution' : 'linear'} is [${weight}] (${want} fit); the file was made for another model.`,
    );
  }
}
