/**
 * Elementwise activations with hand-written backward passes.
 *
 * quickGelu: CLIP's `x * sigmoid(1.702 x)`; forward `shaders/quick_gelu.wgsl`, backward
 * `shaders/quick_gelu_grad.wgsl`, both flat, no workgroup memory, one output of the input's size.
 *
 * geglu: diffusers FeedForward's GEGLU. h [..., 2F] splits into a = h[..., :F], b = h[..., F:];
 * y = a * gelu(b) [..., F] with the exact erf GELU (float32 erf in WGSL, about 1 ulp). Forward
 * `shaders/geglu.wgsl` allocates y; backward `shaders/geglu_grad.wgsl` allocates dh [..., 2F],
 * both halves written by one invocation per element of dy. No workgroup memory. Dispatch is
 * explicit and 2D (SD's GEGLU outputs can exceed 65535 workgroups in one dimension).
 */
import type * as tf from '../gpu/tf';
import quickGeluSource from '../../shaders/quick_gelu.wgsl?raw';
import quickGeluGradSource from '../../shaders/quick_gelu_grad.wgsl?raw';
import gegluSource from '../../shaders/geglu.wgsl?raw';
import gegluGradSource from '../../shaders/geglu_grad.wgsl?raw';
import erfSource from '../../shaders/lib/erf.wgsl?raw';
import { runKernel, withGradient, workgroupGrid, type KernelDef } from './kernel';

const QUICK_GELU: KernelDef = { name: 'quick_gelu', source: quickGeluSource, inputs: ['x'] };
const QUICK_GELU_GRAD: KernelDef = { name: 'quick_gelu_grad', source: quickGeluGradSource, inputs: ['x', 'dy'] };

export const quickGelu: (x: tf.Tensor) => tf.Tensor = withGradient(
  (x) => runKernel(QUICK_GELU, { inputs: [x], outputShape: x.shape }),
  (dy, [x]) => [runKernel(QUICK_GELU_GRAD, { inputs: [x, dy], outputShape: x.shape })],
);

const GEGLU_WORKGROUP = 256; // 4x faster than 64 on lavapipe
const GEGLU_UNIFORMS = [['count', 'i32'], ['features', 'i32']] as const;
const GEGLU: KernelDef = {
  name: 'geglu',
  source: gegluSource,
  includes: [erfSource],
  inputs: ['h'],
  uniforms: GEGLU_UNIFORMS,
  workgroupSize: [GEGLU_WORKGROUP, 1, 1],
};
const GEGLU_GRAD: KernelDef = {
  name: 'geglu_grad',
  source: gegluGradSource,
  includes: [erfSource],
  inputs: ['h', 'dy'],
  uniforms: GEGLU_UNIFORMS,
  workgroupSize: [GEGLU_WORKGROUP, 1, 1],
};

function gegluLaunch(h: tf.Tensor) {
  const twoF = h.shape[h.shape.length - 1];
  if (h.rank < 1 || twoF % 2 !== 0) throw new Error(`geglu: last axis of h [${h.shape}] must be even (2F).`);
  const features = twoF / 2;
  const count = (h.size / twoF) * features;
  return { features, count, uniforms: { count, features }, dispatch: workgroupGrid(Math.ceil(count / GEGLU_WORKGROUP)) };
}

/** y = h[..., :F] * gelu(h[..., F:]) (exact GELU); differentiable in h. */
export const geglu: (h: tf.Tensor) => tf.Tensor = withGradient(
  (h) => {
    const { features, uniforms, dispatch } = gegluLaunch(h);
    return runKernel(GEGLU, { inputs: [h], outputShape: [...h.shape.slice(0, -1), features], uniforms, dispatch });
  },
  (dy, [h]) => {
    const { uniforms, dispatch } = gegluLaunch(h);
    return [runKernel(GEGLU_GRAD, { inputs: [h, dy], outputShape: h.shape, uniforms, dispatch })];
  },
);
