/** For format tests: an import that must be refused, with nothing left on the GPU; a reader's refusal. */
import { expect } from 'vitest';
import * as tf from '../gpu/tf';
import { FormatError } from '../train/formats/errors';
import { importPersonalization, type ImportTarget } from '../train/formats/import';

export async function refusedImport(source: Uint8Array | Blob, fileName: string, target: ImportTarget): Promise<FormatError> {
  const before = tf.memory().numTensors;
  const error = await importPersonalization(source, fileName, target).then(
    () => null,
    (e: unknown) => e,
  );
  expect(tf.memory().numTensors).toBe(before);
  expect(error).toBeInstanceOf(FormatError);
  return error as FormatError;
}

/** The FormatError `f` throws (the test fails when it throws anything else, or nothing). */
export function formatRefusal(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('not refused');
}
