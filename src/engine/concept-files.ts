/**
 * Concepts as files and files as concepts: a training run's checkpoint or an imported file
 * becomes a library `Concept`'s data, and a concept exports as the files other tools read
 * (the embedding, and the LoRA in kohya or diffusers/PEFT layout; see formats/).
 */
import { StudioError } from '../common/errors';
import { conceptFileStem } from '../library/concept-file-names';
import type { Concept, ConceptLoraLayer } from '../library/concept';
import { nameOfId } from '../model/sources/model-id';
import type { Checkpoint } from '../train/checkpoint';
import { exportEmbedding, type EmbeddingLayout } from '../train/formats/embedding';
import { FormatError } from '../train/formats/errors';
import type { ImportedPersonalization } from '../train/formats/import';
import { loraFileToken } from '../train/formats/import-token';
import { exportLora } from '../train/formats/lora-export';
import { exportKohyaXti, type KohyaXtiDtype, type KohyaXtiTarget } from '../train/formats/kohya-xti';
import { exportLayerEmbeddings } from '../train/formats/layer-embeddings';
import { exportPerfusion } from '../train/formats/perfusion-file';
import type { LoraDtype, LoraLayout, LoraModuleLayer } from '../train/formats/lora-layout';
import { META } from '../train/formats/metadata';

/**
 * `layer-embeddings`: a P+ concept's vectors, one per cross-attention layer, in our layout
 * (formats/layer-embeddings.ts) or kohya's XTI one (formats/kohya-xti.ts: needs the model's UNet config);
 * `perfusion`: a Perfusion concept's edit and token vector (formats/perfusion-file.ts; its token vector
 * alone is the `embedding` export, for other tools).
 */
export type ConceptExport = { kind: 'embedding'; layout: EmbeddingLayout } | { kind: 'lora'; layout: LoraLayout; dtype: LoraDtype } | { kind: 'layer-embeddings'; layout?: 'per-layer' } | { kind: 'layer-embeddings'; layout: 'kohya-xti'; dtype?: KohyaXtiDtype } | { kind: 'perfusion' };

/** What the engine makes of a run or a file: a concept without the page's bookkeeping. */
export type ConceptData = Omit<Concept, 'id' | 'photos' | 'loraStrength'>;

/** An imported file's concept, and why its token is not the file's own (when it is not): for the page to show. */
export type ImportedConceptData = ConceptData & { tokenNote?: string };

const TI_KEY = 'ti.vectors';
const LORA_KEY = /^(unet|text_encoder)\.(.+)\.lora\.(down|up)\.weight$/;

/**
 * The concept a training run has learned so far (its last checkpoint). A P+ run's vectors (one
 * per cross-attention layer) need the model's attn2 paths in forward order (`layerPaths`).
 */
export function conceptFromCheckpoint(c: Checkpoint, runId?: string, layerPaths?: readonly string[]): ConceptData {
  const { token, classWord, kind, alpha } = c.config;
  const t = c.tensors.find((x) => x.key === TI_KEY);
  const pplus = c.config.method === 'pplus';
  if (pplus && (!t || !layerPaths || layerPaths.length !== t.shape[0])) {
    throw new StudioError('InvalidRequest', `This P+ run's ${t?.shape[0] ?? 0} layer vectors need the model it was trained on.`, 'Load that model, then save the concept.');
  }
  const layers = new Map<string, Partial<ConceptLoraLayer>>();
  for (const x of c.tensors) {
    const m = LORA_KEY.exec(x.key);
    if (!m) continue;
    const [, component, prefix, part] = m;
    const id = `${component}.${prefix}`;
    // the UNet's layers name no component (as every concept stored before text-encoder LoRAs)
    const layer = layers.get(id) ?? { prefix, ...(component === 'text_encoder' && { component }), alpha };
    if (part === 'down') Object.assign(layer, { down: x.data, downShape: x.shape as [number, number] });
    else Object.assign(layer, { up: x.data, upShape: x.shape as [number, number] });
    layers.set(id, layer);
  }
  return {
    token,
    classWord,
    kind,
    origin: 'trained',
    baseModel: c.modelName ?? nameOfId(c.model), // by name: what concepts are matched on and files say
    created: c.created,
    steps: c.step,
    embedding: t && !pplus ? { nVectors: t.shape[0], dim: t.shape[1], vectors: t.data } : null,
    lora: layers.size ? { layers: [...layers.values()] as ConceptLoraLayer[] } : null,
    ...(pplus && { layerEmbeddings: { layers: [...layerPaths!], dim: t!.shape[1], vectors: t!.data } }),
    ...(runId !== undefined && { runId }),
    // a DreamBooth LoRA holds what a plain one does: only the run can tell
    ...(c.config.method === 'dreambooth' && { method: 'dreambooth' as const }),
  };
}

/** A concept from an imported file. A LoRA's token is `<file name>` unless its metadata names one (or the import set one). */
export function conceptFromImport(imported: ImportedPersonalization, fileName: string): ImportedConceptData {
  const created = Date.parse(imported.info.created ?? '') || Date.now();
  const meta = imported.metadata;
  const common = {
    kind: 'object' as const,
    origin: 'imported' as const,
    baseModel: imported.info.baseModel ?? '',
    created,
    steps: imported.info.steps ?? null,
    fileName,
    ...(imported.tokenNote !== undefined && { tokenNote: imported.tokenNote }),
  };
  if (imported.kind === 'layer-embeddings') {
    const { token, classWord = '', layers, dim, vectors } = imported;
    return { ...common, token, classWord, embedding: null, lora: null, layerEmbeddings: { layers, dim, vectors } };
  }
  if (imported.kind === 'perfusion') {
    const { token, classWord = '', dim, embedding, perfusion } = imported;
    return { ...common, token, classWord, embedding: { nVectors: 1, dim, vectors: embedding }, lora: null, perfusion, method: 'perfusion' };
  }
  if (imported.kind === 'embedding') {
    const { token, classWord = '', nVectors, dim, vectors } = imported;
    return { ...common, token, classWord, embedding: { nVectors, dim, vectors }, lora: null };
  }
  const token = imported.token ?? loraFileToken(meta, fileName);
  const layers: ConceptLoraLayer[] = imported.layers.map((l) => ({
    prefix: l.path,
    ...(l.component === 'text_encoder' && { component: l.component }),
    down: l.down,
    downShape: l.downShape,
    up: l.up,
    upShape: l.upShape,
    alpha: l.alpha,
  }));
  return { ...common, token, classWord: meta[META.classWord] ?? '', embedding: null, lora: { layers } };
}


type Exportable = Pick<ConceptData, 'token' | 'classWord' | 'baseModel' | 'steps' | 'created' | 'embedding' | 'lora' | 'layerEmbeddings' | 'perfusion'>;


/** `model`: the loaded model's UNet, which kohya's XTI block names are derived from. */
export function exportConcept(c: Exportable, what: ConceptExport, model?: KohyaXtiTarget): { fileName: string; bytes: Uint8Array } {
  const info = { baseModel: c.baseModel.replace(/^hf:/, ''), steps: c.steps ?? undefined, created: new Date(c.created).toISOString() };
  const name = conceptFileStem(c.token);
  if (what.kind === 'layer-embeddings') {
    if (!c.layerEmbeddings) throw new FormatError('invalid', `${c.token} has no per-layer (P+) vectors.`);
    const e = { ...info, token: c.token, classWord: c.classWord || undefined, ...c.layerEmbeddings };
    if (what.layout !== 'kohya-xti') return { fileName: `${name}-pplus.safetensors`, bytes: exportLayerEmbeddings(e) };
    if (!model) throw new FormatError('invalid', `kohya's XTI layout names layers by the UNet's blocks: load the model ${c.token} was trained on, then save it.`);
    // kohya's gen_img_diffusers takes the prompt word from the file name
    return { fileName: `${name}-xti.safetensors`, bytes: exportKohyaXti(e, model, what.dtype) };
  }
  if (what.kind === 'perfusion') {
    if (!c.perfusion || !c.embedding || c.embedding.nVectors !== 1) throw new FormatError('invalid', `${c.token} is not a Perfusion concept (no key-locked edit with one token vector).`);
    const bytes = exportPerfusion({ ...info, token: c.token, classWord: c.classWord || undefined, embedding: c.embedding.vectors, perfusion: c.perfusion });
    return { fileName: `${name}-perfusion.safetensors`, bytes };
  }
  if (what.kind === 'embedding') {
    if (!c.embedding) throw new FormatError('invalid', `${c.token} has no token embedding (it is a LoRA only).`);
    const { vectors, nVectors, dim } = c.embedding;
    const bytes = exportEmbedding({ ...info, token: c.token, classWord: c.classWord || undefined, vectors, nVectors, dim }, what.layout);
    // two layouts, two names (a browser would rename the second "name (1)", changing A1111's word)
    return { fileName: what.layout === 'single-key' ? `${name}.safetensors` : `${name}-emb_params.safetensors`, bytes };
  }
  if (!c.lora || c.lora.layers.length === 0) throw new FormatError('invalid', `${c.token} has no LoRA (it is a token embedding only).`);
  const layers: LoraModuleLayer[] = c.lora.layers.map((l) => ({ ...l, component: l.component ?? 'unet', path: l.prefix }));
  const bytes = exportLora({ ...info, layers, token: c.token, classWord: c.classWord }, what.layout, what.dtype);
  return { fileName: `${name}-lora-${what.layout}.safetensors`, bytes };
}
