/**
 * Every GPU dispatch a function makes, in order, each with its program's key and (where the
 * device has `timestamp-query`) the GPU time it took: what predicts a step's time on another GPU
 * (the number of dispatches, and where the time goes). Every tfjs op and every kernel of ours
 * dispatches through the backend's `runWebGPUProgram`; under `time` each dispatch gets its own
 * compute pass with timestamps, read back by one `getQueryTime` call right after it.
 */
import { webgpuBackend, type WebGPUProgram } from './tf-backend';

export interface Dispatch {
  /** The program: tfjs's by its class (`MatMulPackedProgram`), ours by the kernel's name. */
  program: string;
  /** Its shader key (what the pipeline cache keys on). */
  key: string;
  /** GPU milliseconds; 0 where the device has no timestamp queries. */
  ms: number;
}

export interface DispatchProfile {
  dispatches: Dispatch[];
  /** Whether `ms` was measured (the device has `timestamp-query`). */
  timed: boolean;
}

interface Backend {
  runWebGPUProgram: (program: WebGPUProgram, ...rest: unknown[]) => unknown;
  getQueryTime: () => Promise<number>;
  time: (f: () => void) => Promise<unknown>;
  supportTimestampQuery: boolean;
}

/** tfjs's programs are classes; ours are plain objects whose shader key starts with the kernel's name. */
function programName(program: WebGPUProgram): string {
  const cls = program.constructor.name;
  return cls && cls !== 'Object' ? cls : program.shaderKey.split('[')[0];
}

/** Runs `f` (synchronous: it only queues GPU work) and lists the dispatches it made. */
export async function profileDispatches(f: () => void): Promise<DispatchProfile> {
  const backend = webgpuBackend() as unknown as Backend;
  const { runWebGPUProgram, getQueryTime } = backend; // the prototype's: the wrappers below shadow them
  let last = { program: '', key: '' };
  const timed: { program: string; key: string; ms: Promise<number> }[] = [];
  backend.runWebGPUProgram = function (program, ...rest) {
    last = { program: programName(program), key: program.shaderKey };
    return runWebGPUProgram.call(this, program, ...rest);
  };
  backend.getQueryTime = function () {
    const ms = getQueryTime.call(this);
    timed.push({ ...last, ms });
    return ms;
  };
  try {
    await backend.time(f);
  } finally {
    delete (backend as Partial<Backend>).runWebGPUProgram;
    delete (backend as Partial<Backend>).getQueryTime;
  }
  const ms = await Promise.all(timed.map((d) => d.ms));
  return { dispatches: timed.map((d, i) => ({ program: d.program, key: d.key, ms: ms[i] })), timed: backend.supportTimestampQuery };
}
