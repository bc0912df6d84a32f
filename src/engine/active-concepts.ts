/**
 * Library concepts applied to one generation: their tokens join the tokenizer (a concept with N
 * vectors adds N tokens, as diffusers' `load_textual_inversion` does), their vectors answer those
 * tokens' lookups (the frozen embedding table is untouched), and their LoRAs attach to the UNet:
 * several concepts adapting one linear are stacked along the rank, each layer's up weight scaled
 * by alpha / rank · strength, so one adapter per linear carries them all. `dispose` takes it all off.
 */
import { errorMessage, StudioError } from '../common/errors';
import * as tf from '../gpu/tf';
import type { ConceptWeights } from '../library/concept';
import type { StableDiffusionModel } from '../model/load';
import type { PromptTokenizer } from '../model/pipeline';
import { ClipTokenizer } from '../model/tokenizer';
import { embedWithRows } from '../train/textual-inversion';

const TOKEN_TABLE = 'embeddings.token_embedding.weight';

/** A concept this model cannot apply: the generation is refused. */
function conceptRefused(message: string): StudioError {
  return new StudioError('InvalidRequest', message, 'Remove that concept from the prompt, or load the model it was made for.');
}

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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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

  // LoRA: per linear, down [Σr, in] and up [out, Σr] with each concept's scale folded in
  const unet = model.unet.weights;
  const stacks = new Map<string, { down: Float32Array[]; up: Float32Array[]; ranks: number[]; out: number; in: number }>();
  for (const c of concepts) {
    if (!c.lora || c.loraStrength === 0) continue;
    for (const l of c.lora.layers) {
      const [r, inF] = l.downShape;
      const [outF, r2] = l.upShape;
      if (!unet.has(`${l.prefix}.weight`)) throw conceptRefused(`${c.token}: this model has no layer '${l.prefix}' for its LoRA (made for another base model?).`);
      const [wOut, wIn] = unet.shape(`${l.prefix}.weight`);
      if (wOut !== outF || wIn !== inF || r !== r2) throw conceptRefused(`${c.token}: LoRA '${l.prefix}' is [${outF}, ${r}]·[${r2}, ${inF}], the layer is [${wOut}, ${wIn}].`);
      const scale = (l.alpha / r) * c.loraStrength;
      const s = stacks.get(l.prefix) ?? { down: [], up: [], ranks: [], out: outF, in: inF };
      s.down.push(l.down);
      s.up.push(l.up.map((v) => v * scale));
      s.ranks.push(r);
      stacks.set(l.prefix, s);
    }
  }
  if (unet.adapterPrefixes().length > 0) throw new Error('activateConcepts: the UNet already has adapters attached.');
  const adapters: tf.Tensor[] = [];
  try {
    for (const [prefix, s] of stacks) {
      const rank = s.ranks.reduce((a, b) => a + b, 0);
      const down = tf.tensor2d(concatRows(s.down), [rank, s.in]);
      const up = tf.tidy(() => tf.concat(s.up.map((u, i) => tf.tensor2d(u, [s.out, s.ranks[i]])), 1) as tf.Tensor2D);
      adapters.push(down, up);
      unet.setAdapter(prefix, { down, up, scale: 1 });
    }
  } catch (error) {
    for (const prefix of stacks.keys()) unet.setAdapter(prefix, null);
    tf.dispose([...adapters, ...(rows ? [rows] : [])]);
    throw error;
  }

  const loraOnly = concepts.filter((c) => !c.embedding);
  return {
    tokenizer,
    embedTokens,
    rewrite: (prompt) =>
      loraOnly.reduce((p, c) => {
        const pattern = new RegExp(`${escapeRegExp(c.token)}(?!\\s+${escapeRegExp(c.classWord)}\\b)`, 'g');
        return c.classWord ? p.replace(pattern, `${c.token} ${c.classWord}`) : p.replace(new RegExp(`\\s*${escapeRegExp(c.token)}`, 'g'), '');
      }, prompt),
    dispose: () => {
      for (const prefix of stacks.keys()) unet.setAdapter(prefix, null);
      tf.dispose([...adapters, ...(rows ? [rows] : [])]);
    },
  };
}

function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
