/**
 * Weights taken off the GPU (`Weights.offload`): their stored values in CPU memory (fp32, or a
 * packed weight's f16 pairs), put back bit for bit the first time a layer asks for one.
 */
import * as tf from '../gpu/tf';
import type { PackedWeight } from '../kernels/packed';

type Parked = { values: Float32Array; shape: number[] } | { words: Int32Array; shape: number[] };

export class WeightParking {
  private readonly parked = new Map<string, Parked>();

  /** Moves the entries `select` names out of `tensors` and `packed` into CPU memory. */
  async park(tensors: Map<string, tf.Tensor>, packed: Map<string, PackedWeight>, select: (name: string) => boolean): Promise<void> {
    for (const [name, t] of [...tensors].filter(([n]) => select(n))) {
      this.parked.set(name, { values: (await t.data()) as Float32Array, shape: [...t.shape] });
      tensors.delete(name);
      t.dispose();
    }
    for (const [name, p] of [...packed].filter(([n]) => select(n))) {
      this.parked.set(name, { words: (await p.data.data()) as Int32Array, shape: [...p.shape] });
      packed.delete(name);
      p.dispose();
    }
  }

  /** Puts `name` back into `tensors` (fp32) or `packed`, if it is parked. */
  unpark(name: string, tensors: Map<string, tf.Tensor>, packed: Map<string, PackedWeight>): void {
    const p = this.parked.get(name);
    if (!p) return;
    this.parked.delete(name);
    if ('values' in p) tensors.set(name, tf.keep(tf.tensor(p.values, p.shape)));
    else {
      const data = tf.keep(tf.tensor1d(p.words, 'int32'));
      packed.set(name, { data, shape: p.shape, dispose: () => data.dispose() });
    }
  }

  has(name: string): boolean {
    return this.parked.has(name);
  }

  names(): string[] {
    return [...this.parked.keys()];
  }

  /** Bytes kept in CPU memory. */
  get bytes(): number {
    let total = 0;
    this.parked.forEach((p) => (total += 'values' in p ? p.values.byteLength : p.words.byteLength));
    return total;
  }

  clear(): void {
    this.parked.clear();
  }
}
