/**
 * Fused AdamW (torch.optim.AdamW semantics, bias-corrected, decoupled weight decay).
 *
 * Layout: a parameter `p` of any shape (n elements) has one state tensor `moments` of shape
 * [n, 2] holding (m, v) interleaved. A step is two flat dispatches of n invocations:
 * `shaders/adamw_moments.wgsl` (reads g, m, v; writes m', v') and `shaders/adamw_param.wgsl`
 * (reads p, m', v'; writes p'). No workgroup memory. Allocates exactly the new `moments` and the
 * new parameter; the caller disposes (or assigns away) the old ones.
 */
import * as tf from '../gpu/tf';
import momentsSource from '../../shaders/adamw_moments.wgsl?raw';
import paramSource from '../../shaders/adamw_param.wgsl?raw';
import { runKernel, type KernelDef } from './kernel';

export interface AdamWConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

/** torch.optim.AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWConfig = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2 };

const MOMENTS: KernelDef = {
  name: 'adamw_moments',
  source: momentsSource,
  inputs: ['grad', 'moments'],
  uniforms: [['beta1', 'f32'], ['beta2', 'f32'], ['oneMinusBeta1', 'f32'], ['oneMinusBeta2', 'f32']],
  outputComponent: 2,
  inputComponents: [1, 2],
};

const PARAM: KernelDef = {
  name: 'adamw_param',
  source: paramSource,
  inputs: ['param', 'moments'],
  uniforms: [['decay', 'f32'], ['stepSize', 'f32'], ['bc2Sqrt', 'f32'], ['eps', 'f32']],
  inputComponents: [1, 2],
};

/** Zero optimizer state for `param`. */
export function adamwMoments(param: tf.Tensor): tf.Tensor {
  return tf.zeros([param.size, 2]);
}

/**
 * One AdamW step at 1-based step `t`. Returns new tensors; inputs are left untouched.
 */
export function adamwStep(
  param: tf.Tensor,
  grad: tf.Tensor,
  moments: tf.Tensor,
  t: number,
  config: AdamWConfig,
): { param: tf.Tensor; moments: tf.Tensor } {
  if (!tf.util.arraysEqual(param.shape, grad.shape)) {
    throw new Error(`adamwStep: grad shape [${grad.shape}] differs from param shape [${param.shape}].`);
  }
  if (moments.shape.length !== 2 || moments.shape[0] !== param.size || moments.shape[1] !== 2) {
    throw new Error(`adamwStep: moments must be [${param.size}, 2], got [${moments.shape}].`);
  }
  if (!(t >= 1) || !Number.isInteger(t)) throw new Error(`adamwStep: step must be an integer >= 1, got ${t}.`);
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay } = config;
  const newMoments = runKernel(MOMENTS, {
    inputs: [grad, moments],
    outputShape: [param.size, 2],
    uniforms: { beta1, beta2, oneMinusBeta1: 1 - beta1, oneMinusBeta2: 1 - beta2 },
  });
  const newParam = runKernel(PARAM, {
    inputs: [param, newMoments],
    outputShape: param.shape,
    uniforms: {
      decay: 1 - lr * weightDecay,
      stepSize: lr / (1 - beta1 ** t),
      bc2Sqrt: Math.sqrt(1 - beta2 ** t),
      eps: epsilon,
    },
  });
  return { param: newParam, moments: newMoments };
}

/**
 * AdamW over a list of variables, updated in place. The learning rate may change every step
 * (warmup, schedules). `step`/`moments` are exposed for checkpointing.
 */
export class AdamW {
  readonly config: AdamWConfig;
  private t = 0;
  private state: tf.Tensor[];

  constructor(
    readonly variables: readonly tf.Variable[],
    config: Partial<AdamWConfig> = {},
  ) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    this.state = variables.map((v) => tf.keep(adamwMoments(v)));
  }

  get step(): number {
    return this.t;
  }

  get moments(): readonly tf.Tensor[] {
    return this.state;
  }

  /** Restores a checkpoint; takes ownership of `moments`. */
  restore(step: number, moments: tf.Tensor[]): void {
    if (moments.length !== this.variables.length) throw new Error('AdamW.restore: one moments tensor per variable is needed.');
    this.state.forEach((m) => m.dispose());
    this.state = moments.map((m) => tf.keep(m));
    this.t = step;
  }

  apply(grads: readonly tf.Tensor[], learningRate = this.config.learningRate): void {
    if (grads.length !== this.variables.length) throw new Error('AdamW.apply: one gradient per variable is needed.');
    this.t += 1;
    const config = { ...this.config, learningRate };
    this.variables.forEach((variable, i) => {
      const next = adamwStep(variable, grads[i], this.state[i], this.t, config);
      variable.assign(next.param);
      next.param.dispose();
      this.state[i].dispose();
      this.state[i] = tf.keep(next.moments);
    });
  }

  dispose(): void {
    this.state.forEach((m) => m.dispose());
    this.state = [];
  }
}
