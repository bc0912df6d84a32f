/**
 * Test helpers: an op on WebGPU against its plain composed formula on the tfjs CPU backend
 * (values and gradients), relative error as the parity tooling reports it
 * (max |ours - ref| / max |ref|), and a tensor-leak check.
 */
import * as tf from '../gpu/tf';
import { expect } from 'vitest';
import { randomNormal } from '../common/random';

export interface Input {
  shape: number[];
  data: Float32Array;
}

export function randomInput(shape: number[], seed: number, scale = 1): Input {
  return { shape, data: randomNormal(tf.util.sizeFromShape(shape), seed, scale) };
}

export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= maxErr)) maxErr = err; // also catches NaN
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxErr / Math.max(maxRef, 1e-30);
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what = 'values'): void {
  const rel = relativeError(actual, expected);
  expect(rel, `${what}: relative error ${rel.toExponential(2)} > ${rtol}`).toBeLessThanOrEqual(rtol);
}

/** Runs `fn` with `backend` active, then restores the previous backend. */
export async function onBackend<T>(backend: 'cpu' | 'webgpu', fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}

/**
 * Values of f(inputs) and, with `outputGradient`, the gradients of sum(f(inputs) * dy) w.r.t. each
 * input, where dy = outputGradient(the output's shape): values and gradients from one call.
 */
async function evaluate(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Input[], outputGradient?: (shape: number[]) => Input) {
  const xs = inputs.map((x) => tf.tensor(x.data, x.shape));
  try {
    const y = tf.tidy(() => f(...xs));
    const value = (await y.data()) as Float32Array;
    const outShape = y.shape;
    y.dispose();
    if (!outputGradient) return { value, outShape, grads: [] as Float32Array[] };
    const dy = outputGradient(outShape);
    const dyT = tf.tensor(dy.data, dy.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => f(...args))(xs, dyT);
    const gradValues = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
    tf.dispose([dyT, ...grads]);
    return { value, outShape, grads: gradValues };
  } finally {
    tf.dispose(xs);
  }
}

export interface OpComparison {
  inputs: Input[];
  /** The kernel op, run on WebGPU. */
  ours: (...xs: tf.Tensor[]) => tf.Tensor;
  /** The plain composed formula, run on the CPU backend. */
  reference: (...xs: tf.Tensor[]) => tf.Tensor;
  rtol: number;
  /** Also compare gradients (under a random output gradient); default true. */
  gradients?: boolean;
  gradientRtol?: number;
}

/** Compares values and gradients of `ours` (WebGPU) with `reference` (CPU); asserts no leaks. */
export async function expectMatchesReference(c: OpComparison): Promise<void> {
  const outputGradient = c.gradients === false ? undefined : (shape: number[]) => randomInput(shape, 7919);
  const ref = await onBackend('cpu', () => evaluate(c.reference, c.inputs, outputGradient));
  const ours = await expectNoLeaks(() => onBackend('webgpu', () => evaluate(c.ours, c.inputs, outputGradient)));
  expect(ours.outShape).toEqual(ref.outShape);
  expectClose(ours.value, ref.value, c.rtol, 'forward');
  ours.grads.forEach((g, i) => expectClose(g, ref.grads[i], c.gradientRtol ?? c.rtol, `gradient of input ${i}`));
}

/** Runs `fn` and asserts it leaves exactly as many live tensors as before. */
export async function expectNoLeaks<T>(fn: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  expect(tf.memory().numTensors, 'live tensors after the call').toBe(before);
  return result;
}
