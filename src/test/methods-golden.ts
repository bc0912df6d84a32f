/** Test-only: the methods golden's tensors as our code takes them, and the check against its own tolerances. */
import { expect } from 'vitest';
import * as tf from '../gpu/tf';
import { expectClose } from './compare';
import { goldenMethods, goldenMethodsTolerance } from './golden';

/** A methods-golden tensor's values as float32. */
export function methodsF32(name: string): Float32Array {
  return Float32Array.from(goldenMethods(name).data);
}

/** `actual` has the golden tensor's shape and lies within its suggested tolerance (max abs error ≤ tol · max |golden|). */
export async function expectMethodsGolden(actual: tf.Tensor, name: string): Promise<void> {
  expect(actual.shape).toEqual(goldenMethods(name).shape);
  expectClose(await actual.data(), goldenMethods(name).data, goldenMethodsTolerance(name), name);
}
