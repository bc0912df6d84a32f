/**
 * The one tfjs entry point of the engine: tfjs-core with every op gradient registered (the core
 * package alone ships none; the umbrella `@tensorflow/tfjs` would also pull in layers, converter
 * and the WebGL backend).
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';

export * from '@tensorflow/tfjs-core';
