/**
 * Elementwise activations with hand-written backward passes.
 * quickGelu: CLIP's `x * sigmoid(1.702 x)`; forward `shaders/quick_gelu.wgsl`, backward
 * `shaders/quick_gelu_grad.wgsl`, both flat, no workgroup memory, one output of the input's size.
 */
import type * as tf from '../engine/tf';
import quickGeluSource from '../../shaders/quick_gelu.wgsl?raw';
import quickGeluGradSource from '../../shaders/quick_gelu_grad.wgsl?raw';
import { runKernel, withGradient, type KernelDef } from './kernel';

const QUICK_GELU: KernelDef = { name: 'quick_gelu', source: quickGeluSource, inputs: ['x'] };
const QUICK_GELU_GRAD: KernelDef = { name: 'quick_gelu_grad', source: quickGeluGradSource, inputs: ['x', 'dy'] };

export const quickGelu: (x: tf.Tensor) => tf.Tensor = withGradient(
  (x) => runKernel(QUICK_GELU, { inputs: [x], outputShape: x.shape }),
  (dy, [x]) => [runKernel(QUICK_GELU_GRAD, { inputs: [x, dy], outputShape: x.shape })],
);
