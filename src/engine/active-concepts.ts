/**
 * Library concepts applied to one generation: their tokens join the tokenizer (a concept with N
 * vectors adds N tokens, as diffusers' `load_textual_inversion` does), their vectors answer those
 * tokens' lookups (the frozen embedding table is untouched), and their LoRAs attach to the UNet
 * and the text encoder (`concept-loras.ts`). `dispose` takes it all off.
 */
import { errorMessage } from '../common/errors';
import * as tf from '../gpu/tf';
import type { ConceptWeights } from '../library/concept';
import type { StableDiffusionModel } from '../model/load';
import type { PromptTokenizer } from '../model/pipeline';
import { ClipTokenizer } from '../model/tokenizer';
import { embedWithRows } from '../train/textual-inversion';
import { crossAttentionPaths } from '../model/cross-attention';
import type { LayerTokenMap } from '../model/layer-tokens';
import { attachConceptLoras } from './concept-loras';
import { concatRows } from '../common/concat-rows';
import { conceptRefused } from './concept-refused';
import { rewriteLoraTokens } from './lora-prompt';
import { perfusionEdits, type PerfusionEdits } from './perfusion-edits';
import type { CrossAttentionHooks } from '../model/unet';

const TOKEN_TABLE = 'embeddings.token_embedding.weight';

export interface ActiveConcepts {
  tokenizer: PromptTokenizer;
  embedTokens?: (ids: tf.Tensor2D) => tf.Tensor3D;
  /** P+ concepts' tokens → their id at each cross-attention layer (absent: none in use). */
  layerTokens?: LayerTokenMap;
  /** Perfusion concepts' edits on every attn2 (absent: none in use). */
  crossAttention?: CrossAttentionHooks;
  /** The prompt as the model reads it: a LoRA-only concept's token followed by its class word. */
  rewrite(prompt: string): string;
  dispose(): void;
}

/** A tokenizer with the concepts' tokens, kept while the same tokens are asked for again. */
export class ConceptTokenizers {
  private last: { key: string; tokenizer: ClipTokenizer; ids: Map<string, number[]> } | null = null;

  constructor(private readonly model: Pick<StableDiffusionModel, 'tokenizerFiles'>) {}

  /** `layers`: a P+ concept, whose token is layer 0's and `<tok>-l` layer l's (as the trainer names them). */
  get(concepts: readonly { token: string; nVectors: number; layers?: number }[]): { tokenizer: ClipTokenizer; ids: Map<string, number[]> } {
    const key = JSON.stringify(concepts.map((c) => [c.token, c.nVectors, c.layers ?? 0]));
    if (this.last?.key !== key) {
      const tokenizer = ClipTokenizer.fromFiles(this.model.tokenizerFiles);
      const ids = new Map<string, number[]>();
      for (const c of concepts) {
        try {
          const own = tokenizer.addConcept(c.token, c.nVectors);
          const layers = c.layers ?? 0;
          const layerIds = layers > 1 ? tokenizer.addTokens(Array.from({ length: layers - 1 }, (_, l) => `${c.token}-${l + 1}`)) : [];
          ids.set(c.token, [...own, ...layerIds]);
        } catch (error) {
          throw conceptRefused(`${c.token}: ${errorMessage(error)}.`);
        }
      }
      this.last = { key, tokenizer, ids };
    }
    return this.last;
  }
}

export function activateConcepts(model: StableDiffusionModel, tokenizers: ConceptTokenizers, concepts: readonly ConceptWeights[]): ActiveConcepts {
  const tokens = concepts.map((c) => c.token);
  const repeated = tokens.find((t, i) => tokens.indexOf(t) !== i);
  if (repeated !== undefined) throw conceptRefused(`Two concepts use the token ${repeated}.`);

  // Textual inversion
  const [V, D] = model.text.weights.shape(TOKEN_TABLE);
  const embedded = concepts.filter((c) => c.embedding);
  for (const c of embedded) {
    const e = c.embedding!;
    if (e.dim !== D) throw conceptRefused(`${c.token}: its vectors are ${e.dim} wide, this model's text encoder is ${D} wide.`);
    if (e.vectors.length !== e.nVectors * e.dim) throw conceptRefused(`${c.token}: ${e.vectors.length} values do not make ${e.nVectors} vectors.`);
  }
  // P+: a vector per cross-attention layer, for this model's layers
  const paths = crossAttentionPaths(model.unet.config);
  const layered = concepts.filter((c) => c.layerEmbeddings);
  for (const c of layered) {
    const e = c.layerEmbeddings!;
    if (e.dim !== D) throw conceptRefused(`${c.token}: its vectors are ${e.dim} wide, this model's text encoder is ${D} wide.`);
    if (e.layers.length !== paths.length || e.layers.some((p, i) => p !== paths[i])) {
      throw conceptRefused(`${c.token}: its ${e.layers.length} per-layer vectors are for other cross-attention layers than this model's ${paths.length}.`);
    }
  }
  const withVectors = [...embedded, ...layered];
  const { tokenizer, ids } = tokenizers.get(withVectors.map((c) => (c.layerEmbeddings ? { token: c.token, nVectors: 1, layers: paths.length } : { token: c.token, nVectors: c.embedding!.nVectors })));
  let rows: tf.Tensor2D | null = null;
  let embedTokens: ActiveConcepts['embedTokens'];
  if (withVectors.length > 0) {
    const values = concatRows(withVectors.map((c) => (c.layerEmbeddings ?? c.embedding)!.vectors));
    rows = tf.tensor2d(values, [values.length / D, D]);
    embedTokens = embedWithRows(model.text.weights.rowTable(TOKEN_TABLE, [V, D]), withVectors.flatMap((c) => ids.get(c.token)!), rows);
  }
  const layerTokens: LayerTokenMap | undefined = layered.length > 0 ? new Map(layered.map((c) => [ids.get(c.token)![0], ids.get(c.token)!])) : undefined;

  // Perfusion, then LoRA
  let edits: PerfusionEdits | null = null;
  let detachLoras: () => void;
  try {
    edits = perfusionEdits(model.unet.config, D, concepts);
    detachLoras = attachConceptLoras(model, concepts);
  } catch (error) {
    edits?.dispose();
    rows?.dispose();
    throw error;
  }

  const loraOnly = concepts.filter((c) => !c.embedding && !c.layerEmbeddings);
  return {
    tokenizer,
    embedTokens,
    layerTokens,
    ...(edits && { crossAttention: edits.hooks }),
    rewrite: (prompt) => rewriteLoraTokens(prompt, loraOnly),
    dispose: () => {
      detachLoras();
      edits?.dispose();
      rows?.dispose();
    },
  };
}
