/**
 * The kernel framework: one WGSL file in `shaders/` + one `KernelDef` = a tfjs-tracked op.
 *
 * The tfjs WebGPU backend writes each shader's header: bindings `result` (output) and one
 * read-only array per input name, a `uniforms` struct with every input's shape/strides, `size`
 * (output elements / outputComponent) and our own uniforms, and helpers such as `getX(...)` and
 * `setOutputAtIndex`. The WGSL file declares `fn main(index: i32)`: `index` is the invocation's
 * linear global index, for the default one-invocation-per-output-element dispatch and for an
 * explicit `dispatch` alike (see `workgroupGrid`); the builtins stay at hand in private vars
 * (`localId`, `workgroupId`, `localIndex`, ...).
 *
 * Sizes always go in uniforms; only compile-time `constants` (tile sizes, head dims) reach the
 * pipeline cache key, emitted as `const NAME: type = value;` lines before the file's code.
 *
 * Pitfalls seen here: an input named `out` collides with the generated `outShape` uniform; the
 * builtins are private copies, so WGSL treats `workgroupId` as non-uniform (loops with barriers
 * whose bounds derive from it need `workgroupUniformLoad`); and a `var x: T;` without initialiser
 * inside a loop body was not re-zeroed per iteration on one driver stack: write `var x = T();`.
 */
import * as tf from '../gpu/tf';
import { webgpuBackend, type WebGPUProgram } from '../gpu/tf-backend';

export type UniformType = 'f32' | 'i32' | 'u32';
export type Constant = { type: UniformType; value: number } | { type: 'bool'; value: boolean };

export interface KernelDef {
  /** Stable, unique; prefix of the pipeline cache key. */
  name: string;
  /** WGSL user code (imported from `shaders/*.wgsl?raw`). */
  source: string;
  /** Binding names of the inputs, in order. */
  inputs: readonly string[];
  /** Program-defined uniforms, in declaration order. */
  uniforms?: ReadonlyArray<readonly [name: string, type: UniformType]>;
  workgroupSize?: [number, number, number];
  /** Vector width of `result` elements (1, 2 or 4); `uniforms.size` counts vectors. */
  outputComponent?: number;
  /** Vector width of each input's elements; defaults to `outputComponent`. */
  inputComponents?: readonly number[];
  /** Shared WGSL (from `shaders/lib/`, imported `?raw`) placed before `source`. */
  includes?: readonly string[];
}

export interface Launch {
  inputs: readonly tf.Tensor[];
  outputShape: readonly number[];
  dtype?: 'float32' | 'int32';
  uniforms?: Readonly<Record<string, number>>;
  constants?: Readonly<Record<string, Constant>>;
  /** Workgroup counts (see `workgroupGrid`); default: one invocation per output vector. */
  dispatch?: [number, number, number];
}

const DEFAULT_WORKGROUP: [number, number, number] = [64, 1, 1];
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
const MAX_GROUPS_PER_DIMENSION = 65535;

/**
 * Workgroup counts for `groups` workgroups: one row up to the per-dimension limit, else a 2-D
 * grid. Kernels see the linear workgroup order through `index` (surplus invocations of the last
 * row must be masked by the kernel's own bound).
 */
export function workgroupGrid(groups: number): [number, number, number] {
  const n = Math.max(1, Math.ceil(groups));
  return n <= MAX_GROUPS_PER_DIMENSION ? [n, 1, 1] : [MAX_GROUPS_PER_DIMENSION, Math.ceil(n / MAX_GROUPS_PER_DIMENSION), 1];
}

export function runKernel(def: KernelDef, launch: Launch): tf.Tensor {
  const workgroupSize = def.workgroupSize ?? DEFAULT_WORKGROUP;
  const outputComponent = def.outputComponent ?? 1;
  const outputShape = [...launch.outputShape];
  const flat = launch.dispatch === undefined;
  const vectors = Math.ceil(tf.util.sizeFromShape(outputShape) / outputComponent);
  const perGroup = workgroupSize[0] * workgroupSize[1] * workgroupSize[2];

  const constants = Object.entries(launch.constants ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const preamble = constants.map(([name, c]) => `const ${name}: ${c.type} = ${formatConstant(c)};`).join('\n');
  const uniformDecls = def.uniforms ?? [];

  const program: WebGPUProgram = {
    outputShape,
    shaderKey: `${def.name}[${constants.map(([n, c]) => `${n}=${formatConstant(c)}`).join(',')}]`,
    variableNames: [...def.inputs],
    workgroupSize,
    dispatchLayout: flat ? { x: outputShape.map((_, i) => i) } : { x: [], y: [], z: [] },
    dispatch: launch.dispatch ?? [Math.ceil(vectors / perGroup), 1, 1],
    size: flat,
    outputComponent,
    variableComponents: def.inputComponents ? [...def.inputComponents] : undefined,
    uniforms: uniformDecls.map(([name, type]) => `${name} : ${type},`).join(' ') || undefined,
    getUserCode: () => [preamble, ...(def.includes ?? []), def.source].join('\n'),
  };

  const uniformData = uniformDecls.map(([name, type]) => {
    const value = launch.uniforms?.[name];
    if (value === undefined) throw new Error(`${def.name}: uniform '${name}' was not given a value.`);
    return { type: type === 'f32' ? 'float32' : type === 'i32' ? 'int32' : 'uint32', data: [value] };
  });
  if (def.inputs.length !== launch.inputs.length) {
    throw new Error(`${def.name}: expects ${def.inputs.length} inputs (${def.inputs.join(', ')}), got ${launch.inputs.length}.`);
  }

  const info = webgpuBackend().runWebGPUProgram(program, [...launch.inputs], launch.dtype ?? 'float32', uniformData);
  return tf.engine().makeTensorFromTensorInfo(info);
}

function formatConstant(c: Constant): string {
  if (c.type === 'bool') return String(c.value);
  if (c.type === 'f32') return Number.isInteger(c.value) ? `${c.value}.0` : String(c.value);
  if (!Number.isInteger(c.value)) throw new Error(`Constant ${c.value} is not an integer.`);
  return c.type === 'u32' ? `${c.value}u` : `${c.value}`;
}

/**
 * Makes a differentiable op from a forward and a backward that may launch kernels. `backward`
 * receives the output gradient, the inputs and the output, and returns one gradient per input.
 */
export function withGradient<Args extends tf.Tensor[]>(
  forward: (...inputs: Args) => tf.Tensor,
  backward: (dy: tf.Tensor, inputs: Args, output: tf.Tensor) => tf.Tensor[],
): (...inputs: Args) => tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = args as tf.Tensor[] as Args;
    const output = forward(...inputs);
    save([...inputs, output]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(dy, saved.slice(0, -1) as Args, saved[saved.length - 1]),
    };
  });
  return (...inputs: Args) => op(...inputs);
}
