/**
 * `npm run measure:evaluate`: one DreamBench-style evaluation of a concept on the tiny-sd fixture
 * with the tiny feature models (Dawn in Node, onnxruntime-node): seconds in all, generating and
 * scoring; GPU bytes held before, at the peak and after; the process's peak resident memory; and
 * the bytes of each feature model's files. One JSON line per measurement.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startNodeWebGpu } from '../gpu/node-webgpu';

export async function main(args: string[]): Promise<number> {
  const { capabilities } = await startNodeWebGpu();
  const { Engine } = await import('../engine/engine');
  const { FEATURE_FILES } = await import('../engine/feature-sources');
  const { MemoryCache } = await import('../model/sources/cache');
  const { MemoryCheckpointStore } = await import('../train/checkpoint-store');
  const { nodeBuiltinSource, nodeFolderSource } = await import('../model/sources/node-folder');
  const { randomNormal } = await import('../common/random');
  const { decode } = await import('fast-png');
  const { readFileSync } = await import('node:fs');
  const adapter = capabilities.adapter.description || capabilities.adapter.vendor;
  const print = (o: object) => console.log(JSON.stringify({ ...o, adapter }));

  const fixtures = new URL('../test/fixtures/', import.meta.url).pathname;
  const clip = join(fixtures, 'feature-models/clip-tiny');
  const dino = join(fixtures, 'feature-models/dinov2-tiny');
  for (const [role, root] of [['clip', clip], ['dino', dino]] as const) {
    const files = FEATURE_FILES[role].map((p) => ({ path: p, bytes: statSync(join(root, p)).size }));
    print({ name: `features/${role}-tiny-bytes`, bytes: files.reduce((s, f) => s + f.bytes, 0), files });
  }

  const engine = new Engine(globalThis.navigator.gpu, () => {}, async () => new MemoryCache(), new MemoryCheckpointStore(), async () => nodeBuiltinSource(), {}, (root) => nodeFolderSource(root));
  await engine.init();
  const tiny = join(fixtures, 'tiny-sd');
  const list = nodeFolderSource(tiny).list!();
  await engine.loadModel({ model: { kind: 'local', files: list.map((p) => new File([readFileSync(join(tiny, p))], p.split('/').pop()!)), paths: list } }, { signal: new AbortController().signal, progress: () => {} });

  const photos = ['red_square', 'blue_circle', 'noise'].map((n) => {
    const png = decode(readFileSync(join(fixtures, `feature-models/images/${n}.png`)));
    const rgba = new Uint8ClampedArray(png.width * png.height * 4);
    for (let i = 0; i < png.width * png.height; i++) {
      for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Number(png.data[i * png.channels + c]);
      rgba[i * 4 + 3] = 255;
    }
    return { width: png.width, height: png.height, data: rgba };
  });
  const concept = { token: '<my-cat>', classWord: 'cat', embedding: { nVectors: 1, dim: 32, vectors: randomNormal(32, 7, 0.5) }, lora: null, loraStrength: 1 };
  const settings = { seeds: [1, 2], steps: Number(args[0] ?? 4), size: Number(args[1] ?? 64) };

  const gpuBefore = engine.memory().bytesInUse;
  let gpuPeak = gpuBefore;
  let rssPeak = process.memoryUsage().rss;
  const rssBefore = rssPeak;
  let scoringAt = 0;
  const start = performance.now();
  const result = await engine.evaluateConcept({ concept, photos, source: { kind: 'folder', clip, dino }, ...settings }, {
    signal: new AbortController().signal,
    progress: (p) => {
      gpuPeak = Math.max(gpuPeak, engine.memory().bytesInUse);
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      if (p.label === 'Scoring: CLIP') scoringAt = performance.now();
    },
  });
  const end = performance.now();
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  print({
    name: `evaluate/tiny-sd-${settings.size}px-${settings.steps}-steps-${result.images.length}-images`,
    seconds: Number(((end - start) / 1000).toFixed(2)),
    generating_seconds: Number(((scoringAt - start) / 1000).toFixed(2)),
    scoring_seconds: Number(((end - scoringAt) / 1000).toFixed(2)),
    gpu_bytes_before: gpuBefore, gpu_bytes_peak: gpuPeak, gpu_bytes_after: engine.memory().bytesInUse,
    rss_bytes_before: rssBefore, rss_bytes_peak: rssPeak,
    scores: result.scores, baseline: result.baseline, reading: result.reading,
  });
  return 0;
}
