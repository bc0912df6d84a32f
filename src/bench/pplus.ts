/**
 * `npm run measure:pplus`: a P+ generation step against plain TI on the tiny-sd fixture, on real
 * WebGPU: text encoding (P+: one batched call of every distinct layer row) and one guided UNet
 * step (batch 2), each as median seconds and the peak of live tensor bytes, weights included (`tf.profile`),
 * plus the bytes of the per-layer text states P+ keeps through the run. One JSON line each.
 */
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(): Promise<number> {
  const { capabilities } = await startNodeWebGpu();
  const tf = await import('../gpu/tf');
  const { flushGpu } = await import('../gpu/tf-backend');
  const { loadStableDiffusion } = await import('../model/load');
  const { encodePromptLayers } = await import('../model/pipeline');
  const { ClipTokenizer } = await import('../model/tokenizer');
  const { unetForward } = await import('../model/unet');
  const { crossAttentionPaths } = await import('../model/cross-attention');
  const { nodeFolderSource } = await import('../model/sources/node-folder');
  const { TextualInversion } = await import('../train/textual-inversion');
  const { randomNormal } = await import('../common/random');
  const print = (o: object) => console.log(JSON.stringify({ ...o, adapter: capabilities.adapter.description || capabilities.adapter.vendor }));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  const model = await loadStableDiffusion(nodeFolderSource(new URL('../test/fixtures/tiny-sd', import.meta.url).pathname));
  const L = crossAttentionPaths(model.unet.config).length;
  const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
  const [id] = tokenizer.addConcept('<my-toy>', 1);
  const layerIds = Array.from({ length: L }, (_, l) => id + l);
  const prompt = tokenizer.encode('a photo of a <my-toy> on a table').ids;
  const negative = tokenizer.encode('').ids;
  const D = model.text.config.hiddenSize;
  const ti = TextualInversion.create(model.text.weights, { numVectors: 1, tokenIds: [id], values: randomNormal(D, 1) });
  const pplus = TextualInversion.create(model.text.weights, { numVectors: L, tokenIds: layerIds, values: randomNormal(L * D, 2) });
  const methods = {
    ti: () => encodePromptLayers(model, [prompt], negative, ti.embedTokens),
    pplus: () => encodePromptLayers(model, [prompt], negative, pplus.embedTokens, new Map([[id, layerIds]])),
  };

  /** Median seconds over 5 runs after a warm-up, and the peak bytes of one. */
  async function measure(run: () => import('../gpu/tf').Tensor | import('../gpu/tf').Tensor[]): Promise<{ seconds: number; peakBytes: number }> {
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const start = performance.now();
      const out = run();
      await flushGpu();
      times.push(performance.now() - start);
      tf.dispose(out);
    }
    const profile = await tf.profile(() => tf.dispose(run()));
    return { seconds: Number((median(times.slice(1)) / 1000).toFixed(4)), peakBytes: profile.peakBytes };
  }

  for (const [method, encode] of Object.entries(methods)) {
    const enc = await measure(() => {
      const s = encode();
      return s.layers ?? [s.embeddings];
    });
    const states = encode();
    const keptBytes = (states.layers ?? [states.embeddings]).reduce((n, t) => n + t.size * 4, 0);
    print({ name: `pplus/encode-${method}`, seconds: enc.seconds, peak_live_bytes: enc.peakBytes, kept_text_state_bytes: keptBytes });
    for (const size of [8, 32]) {
      const sample = tf.tensor4d(randomNormal(2 * 4 * size * size, 3), [2, 4, size, size]);
      const crossAttention = states.layers ? { context: (l: number) => states.layers![l] } : undefined;
      const step = await measure(() => unetForward(model.unet.weights, model.unet.config, { sample, timesteps: [500, 500], encoderHiddenStates: states.embeddings, crossAttention }));
      print({ name: `pplus/unet-step-${method}-${size * 8}px`, batch: 2, seconds: step.seconds, peak_live_bytes: step.peakBytes });
      sample.dispose();
    }
    tf.dispose(states.layers ?? states.embeddings);
  }
  ti.dispose();
  pplus.dispose();
  model.dispose();
  return 0;
}
