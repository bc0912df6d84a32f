/**
 * A model's frozen parameters on the GPU, addressed by their checkpoint keys
 * (`down_blocks.0.resnets.0.conv1.weight`): models walk these names, so loading needs no rename
 * table. Layers reach weights through `linear`/`conv2d`/`tensor`, which check shapes against
 * what the layer needs and name the key when a checkpoint does not fit its config.
 *
 * Storage: linear and conv weights stored as F16 in the file stay f16 on the GPU (packed pairs,
 * half the bytes, bit-exact: `linearPacked`/`conv2dPacked`); with `precision: 'f16'` F32 ones are
 * rounded to f16 too, and so is the token-embedding table (packed f16 rows, gathered by
 * `rowTable` without an fp32 copy). Everything else is fp32: linear weights in PyTorch's [out, in]
 * (matmul with transposeB), conv weights transposed once at load to tfjs' [kh, kw, in, out];
 * biases, norms and other embedding tables.
 *
 * Adapters (LoRA on a linear or conv layer, `setAdapter`) add their low-rank term to the layer's
 * output; the frozen weight is never changed.
 *
 * `offload` moves chosen weights off the GPU (their bytes kept in CPU memory, as stored); each
 * comes back, bit for bit, the first time a layer uses it (a training run's VAE between previews).
 */
import * as tf from '../gpu/tf';
import { conv2dPacked, linearPacked, packF16, type PackedWeight } from '../kernels/packed';
import { rng } from '../common/random';
import { chunkedRowTable, MAX_TABLE_BYTES, packedRowChunks, packedRowTable, rowChunks, type RowTable } from './row-table';
import { readAsFloat32, WeightError, type TensorSource } from './tensor-source';
import { WeightParking } from './weight-parking';

/**
 * A low-rank adapter (LoRA, Hu et al. 2021) on one linear or convolution. Linear:
 * y = W x + b + scale · up(down(x)), down [r, in], up [out, r]. Convolution (LoCon, 1×1 proj_in/out):
 * y = conv(x, W) + b + scale · up(conv(x, down)), the down conv with the base conv's kernel, stride
 * and padding; down in tfjs' filter layout [kh, kw, in, r] (PyTorch's [r, in, kh, kw] transposed
 * [2, 3, 1, 0]) so tf.conv2d takes it as is, up [out, r] (a 1×1 conv, as a matmul).
 * Its tensors belong to the caller (trainable variables, or loaded).
 */
export interface LowRankAdapter {
  down: tf.Tensor2D | tf.Tensor4D;
  up: tf.Tensor2D;
  scale: number;
}

type Padding = number | [[number, number], [number, number]];

/** A conv's padding as tf.conv2d takes it (NHWC). */
function tfPadding(pad: Padding): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  if (typeof pad === 'number') return pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  return [[0, 0], pad[0], pad[1], [0, 0]];
}

/** 'auto': pack weights the file stores as F16; 'f16': pack every linear/conv weight; 'f32': none. */
export type WeightPrecision = 'auto' | 'f16' | 'f32';

/** Linear (2-D) and conv (4-D) weights; not embedding tables, which are gathered from. */
function packable(name: string, rank: number): boolean {
  return (rank === 2 || rank === 4) && name.endsWith('.weight') && !name.includes('embedding');
}

/** The token-embedding table, read only through `rowTable` (so it may be kept as packed rows). */
function tokenTable(name: string, rank: number): boolean {
  return rank === 2 && name.endsWith('token_embedding.weight');
}

export class Weights {
  private constructor(
    /** Which model these are ("unet", "text_encoder"), for error messages. */
    readonly model: string,
    private readonly tensors: Map<string, tf.Tensor>,
    private readonly packed: Map<string, PackedWeight> = new Map(),
    /** Synthetic weights: made up (seeded uniform noise) the first time a layer asks for them. */
    private readonly synthetic: { precision: 'f16' | 'f32'; next: () => number } | null = null,
    /** 2-D tables too large for one binding, in row chunks. */
    private readonly tables: Map<string, tf.Tensor2D[]> = new Map(),
    /** Token tables as packed f16 row chunks (one chunk up to MAX_PACKED_TABLE_BYTES). */
    private readonly packedTables: Map<string, PackedWeight[]> = new Map(),
  ) {}

  /**
   * Weights generated on demand in exactly the shapes a config's layers ask for: a model of any
   * size without a checkpoint, for memory and speed measurements. Biases are left out.
   */
  static synthetic(model: string, precision: 'f16' | 'f32', seed = 1): Weights {
    return new Weights(model, new Map(), new Map(), { precision, next: rng(seed) });
  }

  private makeUp(shape: number[]): Float32Array {
    const data = new Float32Array(tf.util.sizeFromShape(shape));
    const next = this.synthetic!.next;
    for (let i = 0; i < data.length; i++) data[i] = (next() - 0.5) * 0.04;
    return data;
  }

  /** Adapters by layer prefix (`…attn2.to_k`, `…resnets.0.conv1`), applied by `linear` and `conv2d`. */
  private readonly adapters = new Map<string, LowRankAdapter>();
  /** Weights `offload` took off the GPU. */
  private readonly parked = new WeightParking();

  /**
   * Attaches (or with null, detaches) an adapter to the linear or conv layer at `prefix`; its
   * shapes must fit the layer's weight (a conv's down: [kh, kw, in, r], see LowRankAdapter).
   */
  setAdapter(prefix: string, adapter: LowRankAdapter | null): void {
    if (!adapter) {
      this.adapters.delete(prefix);
      return;
    }
    if (!this.has(`${prefix}.weight`)) throw new WeightError(`${this.model}: no layer '${prefix}' to adapt.`);
    const w = this.shape(`${prefix}.weight`); // [out, in] or [out, in, kh, kw]
    const [out, r] = adapter.up.shape;
    const d = adapter.down.shape;
    const fits =
      adapter.up.rank === 2 &&
      out === w[0] &&
      (w.length === 2 ? d.length === 2 && d[0] === r && d[1] === w[1] : w.length === 4 && d.length === 4 && d[0] === w[2] && d[1] === w[3] && d[2] === w[1] && d[3] === r);
    if (!fits) {
      const want = w.length === 4 ? `down [${w[2]},${w[3]},${w[1]},r] and up [${w[0]},r]` : `down [r,${w[1]}] and up [${w[0]},r]`;
      throw new WeightError(`${this.model}: an adapter of down [${d}] and up [${adapter.up.shape}] does not fit '${prefix}' (weight [${w}]), which needs ${want}.`);
    }
    this.adapters.set(prefix, adapter);
  }

  adapterPrefixes(): string[] {
    return [...this.adapters.keys()];
  }

  /**
   * The trainable adapter tensors (`tf.Variable`s) of every adapter at `prefix` or under it
   * (`prefix.…`), in attachment order: what a recomputed UNet segment must name as its inputs.
   */
  trainableAdapterTensors(prefix: string): tf.Variable[] {
    const out: tf.Variable[] = [];
    this.adapters.forEach((a, p) => {
      if (p !== prefix && !p.startsWith(`${prefix}.`)) return;
      for (const t of [a.down, a.up]) if (t instanceof tf.Variable && t.trainable) out.push(t);
    });
    return out;
  }

  /**
   * Uploads every tensor of `source` whose key passes `filter`. Keys are normalised by `rename`
   * (legacy checkpoint names, in one place per model). On any failure nothing stays on the GPU.
   */
  static async load(
    model: string,
    source: TensorSource,
    options: { rename?: (key: string) => string; filter?: (key: string) => boolean; precision?: WeightPrecision } = {},
  ): Promise<Weights> {
    const precision = options.precision ?? 'auto';
    const tensors = new Map<string, tf.Tensor>();
    const packed = new Map<string, PackedWeight>();
    const tables = new Map<string, tf.Tensor2D[]>();
    const packedTables = new Map<string, PackedWeight[]>();
    try {
      for (const key of source.names()) {
        const name = options.rename ? options.rename(key) : key;
        if (options.filter && !options.filter(name)) continue;
        const { shape, dtype } = source.info(key);
        const halves = precision === 'f16' || (precision === 'auto' && dtype === 'F16');
        if (halves && (packable(name, shape.length) || tokenTable(name, shape.length))) {
          const raw = dtype === 'F16' ? ((await source.read(key)) as Uint16Array) : await readAsFloat32(source, key);
          if (packable(name, shape.length)) packed.set(name, packF16(raw, shape));
          else packedTables.set(name, packedRowChunks(raw, shape));
          continue;
        }
        const data = await readAsFloat32(source, key);
        if (shape.length === 2 && data.length * 4 > MAX_TABLE_BYTES) {
          tables.set(name, rowChunks(data, shape));
          continue;
        }
        const t = tf.tensor(data, shape, 'float32');
        if (shape.length === 4 && name.endsWith('.weight')) {
          tensors.set(name, tf.keep(tf.transpose(t, [2, 3, 1, 0])));
          t.dispose();
        } else {
          tensors.set(name, tf.keep(t));
        }
      }
    } catch (error) {
      tensors.forEach((t) => t.dispose());
      packed.forEach((p) => p.dispose());
      tables.forEach((chunks) => tf.dispose(chunks));
      packedTables.forEach((chunks) => chunks.forEach((c) => c.dispose()));
      throw error;
    }
    return new Weights(model, tensors, packed, null, tables, packedTables);
  }

  static fromTensors(model: string, tensors: Map<string, tf.Tensor>): Weights {
    return new Weights(model, tensors);
  }

  has(name: string): boolean {
    return this.tensors.has(name) || this.packed.has(name) || this.tables.has(name) || this.packedTables.has(name) || this.parked.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys(), ...this.packed.keys(), ...this.tables.keys(), ...this.packedTables.keys(), ...this.parked.names()];
  }

  /** The logical shape of a weight, PyTorch's however it is stored (a conv's [out, in, kh, kw]). */
  shape(name: string): number[] {
    const chunks = this.tables.get(name) ?? this.packedTables.get(name);
    if (chunks) return [chunks.reduce((n, c) => n + c.shape[0], 0), chunks[0].shape[1]];
    const t = this.resident(name);
    if (t && t.rank === 4 && name.endsWith('.weight')) {
      const [kh, kw, inC, outC] = t.shape as number[]; // stored in tfjs layout
      return [outC, inC, kh, kw];
    }
    const shape = t?.shape ?? this.packed.get(name)?.shape;
    if (!shape) throw new WeightError(`${this.model}: no weight '${name}'.`);
    return [...shape];
  }

  /** A [rows, width] table (an embedding), checked against `shape`; large ones are chunked. */
  rowTable(name: string, shape: [number, number]): RowTable {
    if (this.synthetic && !this.has(name)) {
      if (this.synthetic.precision === 'f16' && tokenTable(name, 2)) this.packedTables.set(name, packedRowChunks(this.makeUp(shape), shape));
      else this.tables.set(name, rowChunks(this.makeUp(shape), shape));
    }
    const packedChunks = this.packedTables.get(name);
    if (packedChunks) {
      this.checkTableShape(name, packedChunks.map((c) => c.shape), shape);
      return packedRowTable(packedChunks);
    }
    const chunks = this.tables.get(name) ?? [this.tensor(name, shape) as tf.Tensor2D];
    this.checkTableShape(name, chunks.map((c) => c.shape), shape);
    return chunkedRowTable(chunks);
  }

  private checkTableShape(name: string, chunkShapes: number[][], shape: [number, number]): void {
    const rows = chunkShapes.reduce((n, s) => n + s[0], 0);
    if (rows !== shape[0] || chunkShapes[0][1] !== shape[1]) {
      throw new WeightError(`${this.model}: weight '${name}' has shape [${rows},${chunkShapes[0][1]}], the config needs [${shape}].`);
    }
  }

  /** The GPU tensor that holds `name` as stored (a packed weight's f16 pairs), for integrity checks. */
  stored(name: string): tf.Tensor {
    const chunks = this.tables.get(name);
    const packedChunks = this.packedTables.get(name);
    const t =
      this.resident(name) ??
      this.packed.get(name)?.data ??
      (chunks?.length === 1 ? chunks[0] : undefined) ??
      (packedChunks?.length === 1 ? packedChunks[0].data : undefined);
    if (!t) throw new WeightError(`${this.model}: no single stored tensor '${name}'.`);
    return t;
  }

  private packedWeight(name: string, shape: number[]): PackedWeight | undefined {
    this.resident(name);
    if (this.synthetic?.precision === 'f16' && !this.packed.has(name) && packable(name, shape.length)) {
      const p = packF16(this.makeUp(shape), shape);
      tf.keep(p.data); // made inside a layer's tidy, kept with the model
      this.packed.set(name, p);
    }
    const p = this.packed.get(name);
    if (p && !tf.util.arraysEqual(p.shape, shape)) {
      throw new WeightError(`${this.model}: weight '${name}' has shape [${p.shape}], the config needs [${shape}].`);
    }
    return p;
  }

  /** A weight as stored (conv weights in tfjs layout), checked against `shape` if given. */
  tensor(name: string, shape?: number[]): tf.Tensor {
    let t = this.resident(name);
    if (!t && this.synthetic && shape) this.tensors.set(name, (t = tf.keep(tf.tensor(this.makeUp(shape), shape))));
    if (!t && (this.tables.has(name) || this.packedTables.has(name))) throw new WeightError(`${this.model}: '${name}' is stored in row chunks; read it with rowTable.`);
    if (!t) throw new WeightError(`${this.model}: the checkpoint has no weight '${name}', which the config needs.`);
    if (shape && !tf.util.arraysEqual(t.shape, shape)) {
      throw new WeightError(`${this.model}: weight '${name}' has shape [${t.shape}], the config needs [${shape}].`);
    }
    return t;
  }

  /** y = x·Wᵀ + b for `prefix.weight` [out, in] and optional `prefix.bias` [out]. */
  linear(prefix: string, x: tf.Tensor, outFeatures: number): tf.Tensor {
    const adapter = this.adapters.get(prefix);
    if (!adapter) return this.baseLinear(prefix, x, outFeatures);
    return tf.tidy(() => {
      const base = this.baseLinear(prefix, x, outFeatures);
      const inFeatures = x.shape[x.rank - 1];
      const x2 = x.reshape([-1, inFeatures]);
      const delta = tf.matMul(tf.matMul(x2, adapter.down as tf.Tensor2D, false, true), adapter.up, false, true);
      return tf.add(base, tf.mul(delta, adapter.scale).reshape(base.shape));
    });
  }

  private baseLinear(prefix: string, x: tf.Tensor, outFeatures: number): tf.Tensor {
    const inFeatures = x.shape[x.rank - 1];
    const bias = this.resident(`${prefix}.bias`);
    const packed = this.packedWeight(`${prefix}.weight`, [outFeatures, inFeatures]);
    if (packed) return linearPacked(x, packed, bias && this.tensor(`${prefix}.bias`, [outFeatures]));
    const w = this.tensor(`${prefix}.weight`, [outFeatures, inFeatures]);
    return tf.tidy(() => {
      const x2 = x.reshape([-1, inFeatures]);
      let y = tf.matMul(x2, w, false, true);
      if (bias) y = tf.add(y, this.tensor(`${prefix}.bias`, [outFeatures]));
      return y.reshape([...x.shape.slice(0, -1), outFeatures]);
    });
  }

  /** NHWC convolution with `prefix.weight` (PyTorch [out, in, k, k]) and `prefix.bias`, plus its adapter. */
  conv2d(
    prefix: string,
    x: tf.Tensor4D,
    outChannels: number,
    kernel: number,
    { stride = 1, pad = Math.floor(kernel / 2) }: { stride?: number; pad?: Padding } = {},
  ): tf.Tensor4D {
    const adapter = this.adapters.get(prefix);
    if (!adapter) return this.baseConv2d(prefix, x, outChannels, kernel, stride, pad);
    return tf.tidy(() => {
      const base = this.baseConv2d(prefix, x, outChannels, kernel, stride, pad);
      const h = tf.conv2d(x, adapter.down as tf.Tensor4D, stride, tfPadding(pad)); // [B, H', W', r]
      const delta = tf.matMul(h.reshape([-1, h.shape[3]]), adapter.up, false, true);
      return tf.add(base, tf.mul(delta, adapter.scale).reshape(base.shape));
    });
  }

  private baseConv2d(prefix: string, x: tf.Tensor4D, outChannels: number, kernel: number, stride: number, pad: Padding): tf.Tensor4D {
    const bias = this.resident(`${prefix}.bias`);
    const packed = this.packedWeight(`${prefix}.weight`, [outChannels, x.shape[3], kernel, kernel]);
    if (packed) return conv2dPacked(x, packed, bias, { stride, pad });
    const w = this.tensor(`${prefix}.weight`, [kernel, kernel, x.shape[3], outChannels]) as tf.Tensor4D;
    return tf.tidy(() => {
      let y = tf.conv2d(x, w, stride, tfPadding(pad));
      if (bias) y = tf.add(y, this.tensor(`${prefix}.bias`, [outChannels]));
      return y;
    });
  }

  /**
   * Takes the weights `select` names off the GPU, keeping their stored values in CPU memory; a
   * layer that uses one later puts it back first. Resolves to the GPU bytes freed.
   */
  async offload(select: (name: string) => boolean): Promise<number> {
    const before = this.bytes;
    await this.parked.park(this.tensors, this.packed, select);
    return before - this.bytes;
  }

  /** Puts every offloaded weight back on the GPU. */
  restore(): void {
    for (const name of this.parked.names()) this.resident(name);
  }

  /** Bytes `offload` keeps in CPU memory. */
  get offloadedBytes(): number {
    return this.parked.bytes;
  }

  /** The fp32 tensor `name`, put back on the GPU first if it was offloaded (a packed one goes back to `packed`). */
  private resident(name: string): tf.Tensor | undefined {
    this.parked.unpark(name, this.tensors, this.packed);
    return this.tensors.get(name);
  }

  /** Bytes held on the GPU. */
  get bytes(): number {
    let total = 0;
    this.tensors.forEach((t) => (total += t.size * 4));
    this.packed.forEach((p) => (total += p.data.size * 4));
    this.tables.forEach((chunks) => chunks.forEach((c) => (total += c.size * 4)));
    this.packedTables.forEach((chunks) => chunks.forEach((c) => (total += c.data.size * 4)));
    return total;
  }

  dispose(): void {
    this.tensors.forEach((t) => t.dispose());
    this.packed.forEach((p) => p.dispose());
    this.tables.forEach((chunks) => tf.dispose(chunks));
    this.packedTables.forEach((chunks) => chunks.forEach((c) => c.dispose()));
    this.tensors.clear();
    this.packed.clear();
    this.tables.clear();
    this.packedTables.clear();
    this.parked.clear();
  }
}
