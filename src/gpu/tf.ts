/**
 * The one tfjs entry point of the engine: tfjs-core with every op gradient and the chained
 * tensor methods (`x.reshape(...)`) registered (the core package alone ships neither; the
 * umbrella `@tensorflow/tfjs` would also pull in layers, converter and the WebGL backend).
 * tfjs-core itself must evaluate first: it registers the environment flags the others read.
 */
export * from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
