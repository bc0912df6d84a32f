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
import { attachConceptLoras, concatRows } from './concept-loras';
import { conceptRefused } from './concept-refused';
import { rewriteLoraTokens } from './lora-prompt';

const TOKEN_TABLE = 'embeddings.token_embedding.weight';

export interface ActiveConcepts {
  tokenizer: PromptTokenizer;
  embedTokens?: (ids: tf.Tensor2D) => tf.Tensor3D;
  /** The prompt as the model reads it: a LoRA-only concept's token followed by its class word. */
  rewrite(prompt: string): string;
  dispose(): void;
}

/** A tokenizer with the concepts' tokens, kept while the same tokens are asked for again. */
export class ConceptTokenizers {
  private last: { key: string; tokenizer: ClipTokenizer; ids: Map<string, number[]> } | null = null;

  constructor(private readonly model: Pick<StableDiffusionModel, 'tokenizerFiles'>) {}

  get(concepts: readonly { token: string; nVectors: number }[]): { tokenizer: ClipTokenizer; ids: Map<string, number[]> } {
    const key = JSON.stringify(concepts.map((c) => [c.token, c.nVectors]));
    if (this.last?.key !== key) {
      const tokenizer = ClipTokenizer.fromFiles(this.model.tokenizerFiles);
      const ids = new Map<string, number[]>();
      for (const c of concepts) {
        try {
          ids.set(c.token, tokenizer.addConcept(c.token, c.nVectors));
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
  const { tokenizer, ids } = tokenizers.get(embedded.map((c) => ({ token: c.token, nVectors: c.embedding!.nVectors })));
  let rows: tf.Tensor2D | null = null;
  let embedTokens: ActiveConcepts['embedTokens'];
  if (embedded.length > 0) {
    const values = concatRows(embedded.map((c) => c.embedding!.vectors));
    rows = tf.tensor2d(values, [values.length / D, D]);
    embedTokens = embedWithRows(model.text.weights.rowTable(TOKEN_TABLE, [V, D]), embedded.flatMap((c) => ids.get(c.token)!), rows);
  }

  // LoRA
  let detachLoras: () => void;
  try {
    detachLoras = attachConceptLoras(model, concepts);
  } catch (error) {
    rows?.dispose();
    throw error;
  }

  const loraOnly = concepts.filter((c) => !c.embedding);
  return {
    tokenizer,
    embedTokens,
    rewrite: (prompt) => rewriteLoraTokens(prompt, loraOnly),
    dispose: () => {
      detachLoras();
      rows?.dispose();
    },
  };
}
