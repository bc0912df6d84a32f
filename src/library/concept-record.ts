/**
 * A concept as the library stores it: the versioned record, its list summary, and
 * `restoreConcept`, which every record read back goes through: it upgrades older versions and
 * fails loudly (`ConceptUnreadable`) on what it cannot read.
 */
import { StudioError } from '../common/errors';
import { CONCEPT_KINDS, type ConceptKind } from '../train/templates';
import { TRAINING_METHODS, type TrainingMethod } from '../train/config';
import { conceptMethod, type Concept, type ConceptEmbedding, type ConceptLayerEmbeddings, type ConceptLora, type ConceptLoraLayer, type ConceptPerfusion } from './concept';
import { GATE_BIAS_RANGE, isGateBias } from '../train/formats/perfusion-file';
import { readCrops } from './photo-crop';
import { readLossCurve, type LossCurve } from './loss-curve';
import { readEvaluations, summarizeEvaluation, type EvaluationSummary } from './evaluation';

export const CONCEPT_VERSION = 1;

/** A concept as IndexedDB holds it. */
export type StoredConcept = { version: typeof CONCEPT_VERSION } & Concept;

/** What the library list shows, read without the weights. */
export interface ConceptSummary {
  id: string;
  token: string;
  classWord: string;
  kind: ConceptKind;
  origin: Concept['origin'];
  baseModel: string;
  created: number;
  steps: number | null;
  loraStrength: number;
  /** Textual-inversion vectors (0: no embedding). */
  embeddingVectors: number;
  /** Adapted layers, UNet and text encoder (0: no LoRA). */
  loraLayers: number;
  /** Of those, on the text encoder (absent in summaries stored before there were any). */
  textEncoderLayers?: number;
  textEncoderStrength?: number;
  photoCount: number;
  /** The first training photo, for a thumbnail. */
  cover: Blob | null;
  /** Weights and photos. */
  bytes: number;
  fileName?: string;
  runId?: string;
  /** Its training loss curve, for the card (absent: none kept). */
  lossCurve?: LossCurve;
  /** Its latest evaluation's scores and baseline (absent: never evaluated). */
  evaluation?: EvaluationSummary;
  /** How many evaluations it keeps (absent: none). */
  evaluationCount?: number;
  /** As `Concept.method` (absent: from the weights). */
  method?: TrainingMethod;
  /** Perfusion concepts: `perfusion.gateBias` (absent: not Perfusion). */
  gateBias?: number;
}

type Raw = Record<string, unknown>;

function unreadable(why: string): StudioError {
  return new StudioError('ConceptUnreadable', `This concept cannot be read: ${why}.`);
}

function isCount(n: unknown, min = 0): n is number {
  return Number.isInteger(n) && (n as number) >= min;
}

function isShape(s: unknown, ...ranks: number[]): s is number[] {
  return Array.isArray(s) && ranks.includes(s.length) && s.every((d) => isCount(d, 1));
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

function readEmbedding(raw: unknown): ConceptEmbedding | null {
  if (raw === null) return null;
  const e = raw as Raw;
  if (typeof e !== 'object' || !isCount(e.nVectors, 1) || !isCount(e.dim, 1) || !(e.vectors instanceof Float32Array)) {
    throw unreadable('its embedding has no vectors');
  }
  if (e.vectors.length !== e.nVectors * e.dim) throw unreadable(`its embedding holds ${e.vectors.length} values for ${e.nVectors} vectors of ${e.dim}`);
  if (!allFinite(e.vectors)) throw unreadable('its embedding holds a value that is not a finite number');
  return { nVectors: e.nVectors, dim: e.dim, vectors: e.vectors };
}

function readLayerEmbeddings(raw: unknown): ConceptLayerEmbeddings | undefined {
  if (raw === undefined) return undefined;
  const e = raw as Raw;
  if (typeof e !== 'object' || e === null || !Array.isArray(e.layers) || e.layers.length === 0 || !isCount(e.dim, 1) || !(e.vectors instanceof Float32Array)) {
    throw unreadable('its per-layer embeddings have no vectors');
  }
  const layers = e.layers as unknown[];
  if (!layers.every((l) => typeof l === 'string' && l !== '') || new Set(layers).size !== layers.length) throw unreadable('its per-layer embeddings name a layer twice or not at all');
  if (e.vectors.length !== layers.length * e.dim) throw unreadable(`its per-layer embeddings hold ${e.vectors.length} values for ${layers.length} layers of ${e.dim}`);
  if (!allFinite(e.vectors)) throw unreadable('its per-layer embeddings hold a value that is not a finite number');
  return { layers: [...(layers as string[])], dim: e.dim, vectors: e.vectors };
}

/**
 * A Perfusion edit: distinct layer paths, a positive width each, keys/values their widths' sum,
 * i* and C⁻¹ i* of one length (the embedding's, checked by the caller), every value finite, the
 * gate bias in [0, 1.5] (perfusion-file.ts) and its temperature positive.
 */
function readPerfusion(raw: unknown): ConceptPerfusion | undefined {
  if (raw === undefined) return undefined;
  const p = raw as Raw;
  const arrays = [p?.keys, p?.values, p?.iStar, p?.cInvIStar];
  if (typeof p !== 'object' || p === null || !Array.isArray(p.layers) || p.layers.length === 0 || !Array.isArray(p.widths) || !arrays.every((a) => a instanceof Float32Array)) {
    throw unreadable('its Perfusion edit has no layers or vectors');
  }
  const layers = p.layers as unknown[];
  const widths = p.widths as unknown[];
  const [keys, values, iStar, cInvIStar] = arrays as Float32Array[];
  if (!layers.every((l) => typeof l === 'string' && l !== '') || new Set(layers).size !== layers.length) throw unreadable('its Perfusion edit names a layer twice or not at all');
  if (widths.length !== layers.length || !widths.every((w) => isCount(w, 1))) throw unreadable(`its Perfusion edit has ${widths.length} widths for ${layers.length} layers`);
  const total = (widths as number[]).reduce((a, b) => a + b, 0);
  if (keys.length !== total || values.length !== total) throw unreadable(`its Perfusion edit holds ${keys.length} keys and ${values.length} values for ${total} channels`);
  if (iStar.length === 0 || cInvIStar.length !== iStar.length) throw unreadable(`its Perfusion edit's i* (${iStar.length}) and C⁻¹ i* (${cInvIStar.length}) differ in length`);
  if (!arrays.every((a) => allFinite(a as Float32Array))) throw unreadable('its Perfusion edit holds a value that is not a finite number');
  const { gateBias, gateTemperature } = p;
  if (typeof gateBias !== 'number' || !isGateBias(gateBias)) throw unreadable(`its Perfusion gate bias ${String(gateBias)} is not in [${GATE_BIAS_RANGE}]`);
  if (typeof gateTemperature !== 'number' || !Number.isFinite(gateTemperature) || !(gateTemperature > 0)) throw unreadable(`its Perfusion gate temperature ${String(gateTemperature)} is not positive`);
  return { layers: [...(layers as string[])], widths: [...(widths as number[])], keys, values, iStar, cInvIStar, gateBias, gateTemperature };
}

function readLoraLayer(raw: unknown, i: number): ConceptLoraLayer {
  const l = raw as Raw;
  if (typeof l !== 'object' || l === null || typeof l.prefix !== 'string' || l.prefix === '') throw unreadable(`LoRA layer ${i} has no name`);
  const { prefix, component, down, downShape, up, upShape, alpha } = l;
  if (component !== undefined && component !== 'unet' && component !== 'text_encoder') throw unreadable(`LoRA layer '${prefix}' is on an unknown model part ${JSON.stringify(component)}`);
  if (!(down instanceof Float32Array) || !(up instanceof Float32Array) || !isShape(downShape, 2, 4) || !isShape(upShape, 2)) {
    throw unreadable(`LoRA layer '${prefix}' has no down/up weights`);
  }
  if (down.length !== downShape.reduce((a, b) => a * b, 1)) throw unreadable(`LoRA layer '${prefix}' down holds ${down.length} values for shape [${downShape}]`);
  if (up.length !== upShape[0] * upShape[1]) throw unreadable(`LoRA layer '${prefix}' up holds ${up.length} values for shape [${upShape}]`);
  if (downShape[0] !== upShape[1]) throw unreadable(`LoRA layer '${prefix}' has down rank ${downShape[0]} but up rank ${upShape[1]}`);
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) throw unreadable(`LoRA layer '${prefix}' alpha ${String(alpha)} is not positive`);
  if (!allFinite(down) || !allFinite(up)) throw unreadable(`LoRA layer '${prefix}' holds a weight that is not a finite number`);
  return { prefix, ...(component === 'text_encoder' && { component }), down, downShape: [...downShape], up, upShape: [upShape[0], upShape[1]], alpha };
}

function readLora(raw: unknown): ConceptLora | null {
  if (raw === null) return null;
  const layers = (raw as Raw | undefined)?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw unreadable('its LoRA has no layers');
  const read = layers.map(readLoraLayer);
  const modules = new Set(read.map((l) => `${l.component ?? 'unet'}:${l.prefix}`));
  if (modules.size !== read.length) throw unreadable('its LoRA adapts a layer twice');
  return { layers: read };
}

/**
 * A concept from anything read back from storage. Version 1 is the first format; when the format
 * changes, older versions are upgraded here, one `case` each, so stored concepts keep loading.
 */
export function restoreConcept(raw: unknown): Concept {
  if (typeof raw !== 'object' || raw === null) throw unreadable('it is not an object');
  const r = raw as Raw;
  switch (r.version) {
    case 1: {
      const { id, token, classWord, kind, origin, baseModel, created, steps, loraStrength, textEncoderStrength, photos, crops, fileName, runId, lossCurve, evaluations, method } = r;
      if (typeof id !== 'string' || id === '') throw unreadable('it has no id');
      if (typeof token !== 'string' || token.trim() === '') throw unreadable('its token is empty');
      if (typeof classWord !== 'string') throw unreadable('its class word is missing');
      if (!CONCEPT_KINDS.includes(kind as ConceptKind)) throw unreadable(`kind ${JSON.stringify(kind)} is unknown`);
      if (origin !== 'trained' && origin !== 'imported') throw unreadable(`origin ${JSON.stringify(origin)} is unknown`);
      if (typeof baseModel !== 'string') throw unreadable('its base model is missing');
      if (typeof created !== 'number' || !Number.isFinite(created)) throw unreadable('its creation date is missing');
      if (steps !== null && !isCount(steps)) throw unreadable(`steps ${String(steps)} is not a count`);
      if (typeof loraStrength !== 'number' || !Number.isFinite(loraStrength)) throw unreadable(`LoRA strength ${String(loraStrength)} is not a number`);
      if (textEncoderStrength !== undefined && (typeof textEncoderStrength !== 'number' || !Number.isFinite(textEncoderStrength))) {
        throw unreadable(`text-encoder strength ${String(textEncoderStrength)} is not a number`);
      }
      if (!Array.isArray(photos) || !photos.every((p) => p instanceof Blob)) throw unreadable('its photos are not images');
      if (fileName !== undefined && typeof fileName !== 'string') throw unreadable('its file name is not text');
      if (runId !== undefined && typeof runId !== 'string') throw unreadable('its training run id is not text');
      if (method !== undefined && !TRAINING_METHODS.includes(method as TrainingMethod)) throw unreadable(`method ${JSON.stringify(method)} is unknown`);
      const embedding = readEmbedding(r.embedding ?? null);
      const lora = readLora(r.lora ?? null);
      const layerEmbeddings = readLayerEmbeddings(r.layerEmbeddings);
      const perfusion = readPerfusion(r.perfusion);
      if (perfusion && (embedding === null || embedding.nVectors !== 1 || embedding.dim !== perfusion.iStar.length)) throw unreadable('its Perfusion edit needs one token vector as wide as its i*');
      if (perfusion && (lora !== null || layerEmbeddings !== undefined)) throw unreadable('it holds a Perfusion edit beside a LoRA or per-layer embeddings');
      if (embedding === null && lora === null && layerEmbeddings === undefined) throw unreadable('it holds neither an embedding nor a LoRA');
      if (embedding !== null && layerEmbeddings !== undefined) throw unreadable('it holds both an embedding and per-layer embeddings for one token');
      const concept: Concept = { id, token, classWord, kind: kind as ConceptKind, origin, baseModel, created, steps, embedding, lora, loraStrength, photos: [...photos] };
      const cropped = readCrops(crops, photos.length, unreadable);
      if (cropped) concept.crops = cropped;
      if (fileName !== undefined) concept.fileName = fileName;
      if (runId !== undefined) concept.runId = runId;
      if (textEncoderStrength !== undefined) concept.textEncoderStrength = textEncoderStrength;
      if (lossCurve !== undefined) concept.lossCurve = readLossCurve(lossCurve, unreadable);
      if (evaluations !== undefined) concept.evaluations = readEvaluations(evaluations, unreadable);
      if (method !== undefined) concept.method = method as TrainingMethod;
      if (layerEmbeddings !== undefined) concept.layerEmbeddings = layerEmbeddings;
      if (perfusion !== undefined) concept.perfusion = perfusion;
      return concept;
    }
    default:
      throw unreadable(`unknown version ${JSON.stringify(r.version)} (made by a newer studio?)`);
  }
}

/** The record to store; a concept that could not be read back is refused here with a TypeError (a programming error). */
export function storedConcept(c: Concept): StoredConcept {
  const record = { version: CONCEPT_VERSION, ...c } as StoredConcept;
  try {
    return { version: CONCEPT_VERSION, ...restoreConcept(record) };
  } catch (error) {
    throw new TypeError(`concept '${c?.token}' cannot be saved: ${(error as Error).message}`);
  }
}

export function conceptBytes(c: Concept): number {
  const p = c.perfusion;
  const perfusion = p ? p.keys.byteLength + p.values.byteLength + p.iStar.byteLength + p.cInvIStar.byteLength : 0;
  const weights = (c.embedding?.vectors.byteLength ?? 0) + (c.layerEmbeddings?.vectors.byteLength ?? 0) + perfusion + (c.lora?.layers ?? []).reduce((sum, l) => sum + l.down.byteLength + l.up.byteLength, 0);
  return weights + c.photos.reduce((sum, p) => sum + p.size, 0);
}

export function summarizeConcept(c: Concept): ConceptSummary {
  const s: ConceptSummary = {
    id: c.id,
    token: c.token,
    classWord: c.classWord,
    kind: c.kind,
    origin: c.origin,
    baseModel: c.baseModel,
    created: c.created,
    steps: c.steps,
    loraStrength: c.loraStrength,
    embeddingVectors: c.embedding?.nVectors ?? c.layerEmbeddings?.layers.length ?? 0,
    loraLayers: c.lora?.layers.length ?? 0,
    textEncoderLayers: c.lora?.layers.filter((l) => l.component === 'text_encoder').length ?? 0,
    photoCount: c.photos.length,
    cover: c.photos[0] ?? null,
    bytes: conceptBytes(c),
  };
  if (c.fileName !== undefined) s.fileName = c.fileName;
  if (c.runId !== undefined) s.runId = c.runId;
  if (c.textEncoderStrength !== undefined) s.textEncoderStrength = c.textEncoderStrength;
  if (c.lossCurve !== undefined) s.lossCurve = c.lossCurve;
  const latest = c.evaluations?.at(-1);
  if (latest) {
    s.evaluation = summarizeEvaluation(latest);
    s.evaluationCount = c.evaluations!.length;
  }
  s.method = conceptMethod(c);
  if (c.perfusion) s.gateBias = c.perfusion.gateBias;
  return s;
}

function readableCurve(raw: unknown): boolean {
  try {
    readLossCurve(raw, unreadable);
    return true;
  } catch {
    return false;
  }
}

function readableEvaluationSummary(raw: unknown): boolean {
  const e = raw as Partial<EvaluationSummary> | null;
  const scores = (x: unknown) => {
    const v = x as Record<string, unknown> | null;
    return typeof v === 'object' && v !== null && [v.clipI, v.clipT, v.dino].every((n) => typeof n === 'number' && Number.isFinite(n));
  };
  return typeof e === 'object' && e !== null && scores(e.scores) && scores(e.baseline) && typeof e.reading === 'string' && typeof e.evaluatedAt === 'number';
}

/** A stored summary, or null when it does not look like one (the full record is read instead). */
export function readSummary(raw: unknown, id: string): ConceptSummary | null {
  const s = raw as (ConceptSummary & { version?: unknown }) | undefined;
  const ok =
    typeof s === 'object' && s !== null && s.version === CONCEPT_VERSION && s.id === id &&
    typeof s.token === 'string' && s.token.trim() !== '' && typeof s.created === 'number' &&
    CONCEPT_KINDS.includes(s.kind) && (s.origin === 'trained' || s.origin === 'imported') &&
    typeof s.classWord === 'string' && typeof s.baseModel === 'string' && typeof s.loraStrength === 'number' &&
    isCount(s.embeddingVectors) && isCount(s.loraLayers) && isCount(s.photoCount) && isCount(s.bytes) &&
    (s.cover === null || s.cover instanceof Blob) && (s.lossCurve === undefined || readableCurve(s.lossCurve)) &&
    (s.evaluation === undefined || readableEvaluationSummary(s.evaluation)) &&
    (s.method === undefined || TRAINING_METHODS.includes(s.method));
  if (!ok) return null;
  const { version: _, ...summary } = s;
  return summary;
}
