/** What every parity check shares: its shape, its outputs, and reading golden tensors in and ours out. */
import * as tf from '../gpu/tf';
import type { StableDiffusionModel } from '../model/load';
import type { Golden, GoldenTensor } from './golden';

/** Our tensors under the golden's names. */
export type Outputs = Map<string, ArrayLike<number>>;

export interface ParityCheck {
  /** Golden tensors this check needs as inputs. */
  needs: string[];
  run: (model: StableDiffusionModel, golden: Golden) => Promise<Outputs>;
  /** Golden tensors it does not compute, each with a one-line reason (reported as skipped). */
  skipped?: (golden: Golden) => [string, string][];
}

export const t4 = (g: GoldenTensor) => tf.tensor4d(g.data as Float32Array, g.shape as [number, number, number, number]);
export const t3 = (g: GoldenTensor) => tf.tensor3d(g.data as Float32Array, g.shape as [number, number, number]);

/** Each tensor read into `outputs` under its name, then disposed. */
export async function read(outputs: Outputs, entries: [string, tf.Tensor][]): Promise<Outputs> {
  for (const [name, t] of entries) outputs.set(name, (await t.data()) as Float32Array);
  tf.dispose(entries.map(([, t]) => t));
  return outputs;
}
