/**
 * Keeps a failed test's leftover work off the tests after it. A timed-out test's body runs on
 * after Vitest moves to the next test; the tensors it makes and frees meanwhile would show in
 * that test's leak check (`tf.memory().numTensors` after = before) as its own. So, once a test's
 * scope is abandoned (see test-scope.ts):
 * - the tensors and bytes its work tracks or frees are left out of `tf.memory()`, so each leak
 *   check counts only work of its own test (and of file-level hooks), relative to its own start;
 * - its next op or new tensor throws Cancelled, so it stops taking the machine from the others.
 * Work of a test that passed is counted as before, wherever it runs.
 */
import * as tf from '../gpu/tf';
import { StudioError } from '../common/errors';
import { currentScope } from './test-scope';

/** The tfjs Engine members wrapped here (tfjs-core 4.22). */
interface EngineInternals {
  state: { numTensors: number; numBytes: number };
  trackTensor(...args: unknown[]): void;
  disposeTensor(...args: unknown[]): void;
  runKernelFunc(...args: unknown[]): unknown;
  makeTensor(...args: unknown[]): unknown;
  memory(): tf.MemoryInfo;
}

/** Tensors and bytes abandoned work added (negative: freed) since the wrap. */
export interface AbandonedCounts {
  tensors: number;
  bytes: number;
}

const installed = new WeakMap<object, AbandonedCounts>();

function refuseAbandoned(): void {
  const scope = currentScope();
  if (scope?.abandoned) throw new StudioError('Cancelled', `Stopped the leftover work of the failed test "${scope.name}".`, 'See that test’s own failure.');
}

/** Wraps tfjs' engine once; returns the running counts of abandoned work it leaves out. */
export function isolateAbandonedWork(engine = tf.engine() as unknown as EngineInternals): AbandonedCounts {
  const existing = installed.get(engine);
  if (existing) return existing;
  const counts: AbandonedCounts = { tensors: 0, bytes: 0 };
  const counted = (change: (...args: unknown[]) => void) => (...args: unknown[]) => {
    if (!currentScope()?.abandoned) return change.apply(engine, args);
    const { numTensors, numBytes } = engine.state;
    try {
      change.apply(engine, args);
    } finally {
      counts.tensors += engine.state.numTensors - numTensors;
      counts.bytes += engine.state.numBytes - numBytes;
    }
  };
  const refused = (f: (...args: unknown[]) => unknown) => (...args: unknown[]) => {
    refuseAbandoned();
    return f.apply(engine, args);
  };
  const memory = engine.memory.bind(engine);
  engine.trackTensor = counted(engine.trackTensor);
  engine.disposeTensor = counted(engine.disposeTensor);
  engine.runKernelFunc = refused(engine.runKernelFunc);
  engine.makeTensor = refused(engine.makeTensor);
  engine.memory = () => {
    const info = memory();
    return { ...info, numTensors: info.numTensors - counts.tensors, numBytes: info.numBytes - counts.bytes };
  };
  installed.set(engine, counts);
  return counts;
}
