/** Test-only: the tiny feature models (src/test/fixtures/feature-models), their images and goldens. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode } from 'fast-png';
import { startHubServer, type RequestRecord } from './hub-server';
import type { FeatureFiles } from '../features/transformers-runtime';
import type { FeatureImage } from '../features/types';

export const FEATURE_MODELS = new URL('./fixtures/feature-models', import.meta.url).pathname;
export const CLIP_TINY = join(FEATURE_MODELS, 'clip-tiny');
export const DINO_TINY = join(FEATURE_MODELS, 'dinov2-tiny');

export interface FeatureGolden {
  clip: {
    prompts: string[];
    images: string[];
    image_embeds: number[][];
    text_embeds: number[][];
    cosine_image_text: number[][];
    cosine_image_image: number[][];
    cosine_text_text: number[][];
  };
  dinov2: { pooler_output: number[][]; cosine_image_image_cls: number[][] };
}

export function featureGolden(): FeatureGolden {
  return JSON.parse(readFileSync(join(FEATURE_MODELS, 'golden.json'), 'utf8')) as FeatureGolden;
}

/** A fixture folder read file by file, counting reads. */
export function folderFiles(root: string): FeatureFiles & { reads: string[] } {
  const reads: string[] = [];
  return {
    name: root,
    reads,
    async read(path) {
      reads.push(path);
      return readFile(join(root, path)).then((b) => new Uint8Array(b), () => null);
    },
  };
}

/** The golden images (red_square, blue_circle, noise) as RGBA. */
export function goldenImages(): (FeatureImage & { data: Uint8ClampedArray })[] {
  return featureGolden().clip.images.map((p) => {
    const png = decode(readFileSync(join(FEATURE_MODELS, p)));
    const { width, height, channels } = png;
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Number(png.data[i * channels + c]);
      rgba[i * 4 + 3] = 255;
    }
    return { width, height, data: rgba };
  });
}

/** Both tiny feature models on one hub stand-in (`fx/clip-tiny`, `fx/dinov2-tiny` at revision main), with every request it got. */
export async function startFeatureHub(): Promise<{ endpoint: string; clip: string; dino: string; requests: () => RequestRecord[]; clipRequests: () => RequestRecord[]; close: () => Promise<void> }> {
  const repos = { clip: 'fx/clip-tiny', dino: 'fx/dinov2-tiny' };
  const hubs = [await startHubServer(CLIP_TINY, repos.clip, 'main'), await startHubServer(DINO_TINY, repos.dino, 'main')];
  const front = createServer((req, res) => {
    const hub = req.url?.startsWith(`/${repos.clip}/`) ? hubs[0] : hubs[1];
    const upstream = request(new URL(req.url ?? '/', hub.baseUrl), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...repos,
    requests: () => hubs.flatMap((h) => h.requests),
    clipRequests: () => hubs[0].requests,
    close: async () => {
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await Promise.all(hubs.map((h) => h.close()));
    },
  };
}
