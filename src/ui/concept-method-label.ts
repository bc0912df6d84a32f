/** How a library card names a concept's method and what its weights hold. */
import type { ConceptSummary } from '../library/concept-record';
import type { TrainingMethod } from '../train/config';

/** The summary's method; summaries stored before it was kept say it through their weights. */
export function summaryMethod(c: ConceptSummary): TrainingMethod {
  return c.method ?? (c.embeddingVectors > 0 && c.loraLayers > 0 ? 'both' : c.loraLayers > 0 ? 'lora' : 'ti');
}

/** E.g. "token embedding, 1 vector + LoRA on 32 layers", "P+ embedding, a vector at each of 16 layers". */
export function methodLabel(c: ConceptSummary): string {
  const method = summaryMethod(c);
  if (method === 'pplus') return `P+ embedding, a vector at each of ${c.embeddingVectors} layers`;
  const parts: string[] = [];
  if (method === 'dreambooth') parts.push('DreamBooth');
  if (method === 'perfusion') parts.push('Perfusion');
  if (c.embeddingVectors > 0) parts.push(`token embedding, ${c.embeddingVectors} vector${c.embeddingVectors > 1 ? 's' : ''}`);
  if (method === 'perfusion') parts.push('key-locked edit of the cross-attention layers');
  const te = c.textEncoderLayers ?? 0;
  if (c.loraLayers > 0) parts.push(`LoRA on ${c.loraLayers} layers${te > 0 ? ` (${te} of the text encoder)` : ''}`);
  return parts.join(' + ');
}
