/**
 * One Perfusion concept as it trains: per attn2 layer the learned value target v* (a variable,
 * started at W_v i_super as the reference does) and the locked key target o_K = W_k i_super; and
 * the two inputs the edit reads, i* (the concept's encoding at its token) and i_super (the class
 * word's at the same place), each a running mean over steps (EMA 0.99, started at the first
 * batch's value: lucidrains' rule, whose fixed point is what the methods golden uses).
 */
import * as tf from '../gpu/tf';
import { crossAttentionLayerList } from '../model/cross-attention';
import type { UNetConfig } from '../model/config';
import type { CrossAttentionHooks } from '../model/unet';
import type { Weights } from '../model/weights';
import { concatRows } from '../common/concat-rows';
import { matVec } from './float64-matrix';
import { perfusionHooks } from './perfusion-hooks';
import { disposeEditInputs, editInputs, type EditInputs } from './perfusion-inputs';
import { TRAINING_GATE, type Gate } from './rank-one-edit';

export const INPUT_EMA = 0.99;

/** The batch-mean encodings at the concept token: the concept's (i*) and the class word's (i_super), [D] each. */
export interface ConceptEncodings {
  iStar: Float32Array;
  iSuper: Float32Array;
}

type Unet = { weights: Weights; config: UNetConfig };

export class PerfusionConcept {
  private inputs: EditInputs;
  private keys: Map<string, tf.Tensor1D>;

  private constructor(
    private readonly unet: Unet,
    private readonly cInv: Float32Array,
    private encodings: ConceptEncodings,
    /** v* by attn2 module path. */
    readonly values: Map<string, tf.Variable<tf.Rank.R1>>,
  ) {
    this.inputs = editInputs(cInv, [encodings.iStar]);
    this.keys = lockedKeys(unet, encodings.iSuper);
  }

  /** A fresh concept from the first batch's encodings; `cInv` is the model's C⁻¹ (`perfusion-covariance.ts`). */
  static create(unet: Unet, cInv: Float32Array, first: ConceptEncodings): PerfusionConcept {
    const values = new Map(
      projected(unet, first.iSuper, 'to_v').map(([path, t]) => [path, variableOf(t)] as const),
    );
    return new PerfusionConcept(unet, cInv, { iStar: first.iStar.slice(), iSuper: first.iSuper.slice() }, values);
  }

  /** A concept going on from a checkpoint: its running inputs and every layer's v* ([width] each, by module path). */
  static restore(unet: Unet, cInv: Float32Array, encodings: ConceptEncodings, stored: ReadonlyMap<string, Float32Array>): PerfusionConcept {
    const values = new Map(
      crossAttentionLayerList(unet.config).map((l) => {
        const v = stored.get(l.path);
        if (!v || v.length !== l.channels) throw new Error(`perfusion: the checkpoint's value target for ${l.path} is ${v ? `${v.length} wide, ${l.channels}` : 'missing,'} needed.`);
        return [l.path, variableOf(tf.tensor1d(v))] as const;
      }),
    );
    return new PerfusionConcept(unet, cInv, { iStar: encodings.iStar.slice(), iSuper: encodings.iSuper.slice() }, values);
  }

  /** The running inputs (a checkpoint keeps them). */
  get currentEncodings(): ConceptEncodings {
    return { iStar: this.encodings.iStar.slice(), iSuper: this.encodings.iSuper.slice() };
  }

  /** Every v*, in forward layer order: what the optimizer trains. */
  get variables(): tf.Variable[] {
    return [...this.values.values()];
  }

  /** One step's encodings folded into the running inputs (then the edit reads the new ones). */
  observe(batch: ConceptEncodings): void {
    const ema = (old: Float32Array, now: Float32Array) => old.map((x, i) => INPUT_EMA * x + (1 - INPUT_EMA) * now[i]);
    this.use({ iStar: ema(this.encodings.iStar, batch.iStar), iSuper: ema(this.encodings.iSuper, batch.iSuper) });
  }

  /** Back to running inputs taken before (a step that diverged is undone). */
  rewind(to: ConceptEncodings): void {
    this.use({ iStar: to.iStar.slice(), iSuper: to.iSuper.slice() });
  }

  private use(encodings: ConceptEncodings): void {
    this.encodings = encodings;
    disposeEditInputs(this.inputs);
    tf.dispose([...this.keys.values()]);
    this.inputs = editInputs(this.cInv, [this.encodings.iStar]);
    this.keys = lockedKeys(this.unet, this.encodings.iSuper);
  }

  /** The UNet hook that edits every attn2 with this concept. */
  hooks(gate: Gate = TRAINING_GATE): CrossAttentionHooks {
    return perfusionHooks(this.inputs, [{ keys: this.keys, values: this.values, gate }]);
  }

  /** What generation needs (`ConceptPerfusion` without the gate): per layer o_K and v*, i* and C⁻¹ i* (float64 product, cast). */
  async edit(): Promise<PerfusionEdit> {
    const layers = crossAttentionLayerList(this.unet.config);
    const rows = async (m: ReadonlyMap<string, tf.Tensor1D>) => concatRows(await Promise.all(layers.map(async (l) => (await m.get(l.path)!.data()) as Float32Array)));
    const d = this.encodings.iStar.length;
    return {
      layers: layers.map((l) => l.path),
      widths: layers.map((l) => l.channels),
      keys: await rows(this.keys),
      values: await rows(this.values),
      iStar: this.encodings.iStar.slice(),
      cInvIStar: Float32Array.from(matVec(Float64Array.from(this.cInv), this.encodings.iStar, d)),
    };
  }

  dispose(): void {
    disposeEditInputs(this.inputs);
    tf.dispose([...this.keys.values(), ...this.values.values()]);
  }
}

/** A trained concept's edit, as plain data: `keys`/`values` are the layers' rows concatenated (`widths[l]` each). */
export interface PerfusionEdit {
  layers: string[];
  widths: number[];
  keys: Float32Array;
  values: Float32Array;
  iStar: Float32Array;
  cInvIStar: Float32Array;
}

/** A trainable copy of `t`, which is disposed. */
function variableOf(t: tf.Tensor1D): tf.Variable<tf.Rank.R1> {
  const v = tf.variable(t, true) as tf.Variable<tf.Rank.R1>;
  t.dispose();
  return v;
}

/** W · x at every attn2's to_k or to_v, by module path. */
function projected(unet: Unet, x: Float32Array, which: 'to_k' | 'to_v'): [string, tf.Tensor1D][] {
  return tf.tidy(() => {
    const input = tf.tensor3d(x, [1, 1, x.length]);
    return crossAttentionLayerList(unet.config).map((l) => [l.path, unet.weights.linear(`${l.path}.${which}`, input, l.channels).reshape([-1]) as tf.Tensor1D] as [string, tf.Tensor1D]);
  });
}

function lockedKeys(unet: Unet, iSuper: Float32Array): Map<string, tf.Tensor1D> {
  return new Map(projected(unet, iSuper, 'to_k'));
}

/**
 * The batch mean of `states` [B, N, D] at each row's first `tokenId` in `ids` (the concept prompt's
 * ids, one row each): i* from the concept's states, i_super from the class word's at the same places.
 */
export async function encodingAt(states: tf.Tensor3D, ids: readonly (readonly number[])[], tokenId: number): Promise<Float32Array> {
  const positions = ids.map((row, b) => {
    const n = row.indexOf(tokenId);
    if (n < 0) throw new Error(`perfusion: prompt ${b} does not hold the concept's token.`);
    return n;
  });
  const mean = tf.tidy(() => tf.stack(positions.map((n, b) => states.slice([b, n, 0], [1, 1, -1]).reshape([-1]))).mean(0));
  const out = (await mean.data()) as Float32Array;
  mean.dispose();
  return out;
}
