/**
 * The files a finished (or paused) training run exports, straight from its checkpoint: the
 * concept's embedding (TI) and its LoRA, in the layouts other tools read (see formats/).
 */
import type { Checkpoint } from './checkpoint';
import { exportEmbedding, type EmbeddingLayout } from './formats/embedding';
import { exportLora, type LoraDtype, type LoraLayerData, type LoraLayout } from './formats/lora-file';

export type RunExport = { kind: 'embedding'; layout: EmbeddingLayout } | { kind: 'lora'; layout: LoraLayout; dtype: LoraDtype };

const TI_KEY = 'ti.vectors';
const LORA_KEY = /^unet\.(.+)\.lora\.(down|up)\.weight$/;

/** File name from the token: `<my-dog>` → `my-dog`. */
function baseName(token: string): string {
  return token.replace(/[<>]/g, '').replace(/[^\w.-]+/g, '_') || 'concept';
}

export function exportRun(c: Checkpoint, what: RunExport): { fileName: string; bytes: Uint8Array } {
  const info = { baseModel: c.model.replace(/^hf:/, ''), steps: c.step, created: new Date(c.created).toISOString() };
  const name = baseName(c.config.token);
  if (what.kind === 'embedding') {
    const t = c.tensors.find((x) => x.key === TI_KEY);
    if (!t) throw new Error('This run trained no token embedding (LoRA only).');
    const [nVectors, dim] = t.shape;
    const bytes = exportEmbedding({ ...info, token: c.config.token, classWord: c.config.classWord, vectors: t.data, nVectors, dim }, what.layout);
    return { fileName: `${name}.safetensors`, bytes };
  }
  const layers = new Map<string, LoraLayerData>();
  for (const t of c.tensors) {
    const m = LORA_KEY.exec(t.key);
    if (!m) continue;
    const layer = layers.get(m[1]) ?? ({} as LoraLayerData);
    if (m[2] === 'down') Object.assign(layer, { down: t.data, downShape: t.shape as [number, number] });
    else Object.assign(layer, { up: t.data, upShape: t.shape as [number, number] });
    layers.set(m[1], layer);
  }
  if (layers.size === 0) throw new Error('This run trained no LoRA (token embedding only).');
  const bytes = exportLora({ ...info, layers, rank: c.config.rank, alpha: c.config.alpha, targets: c.config.targets }, what.layout, what.dtype);
  return { fileName: `${name}-lora-${what.layout}.safetensors`, bytes };
}
