/**
 * Models known to fit the studio: Stable Diffusion 1.x and its distilled descendants (same text
 * encoder and VAE, smaller UNets). Sizes are approximate downloads of the files
 * `sdPipelineFiles()` fetches (fp16 weights where the repo has them, else fp32).
 */
export interface RecommendedModel {
  repo: string;
  revision: string;
  /** One line, for the model picker. */
  description: string;
  /** Approximate download size in bytes. */
  approxBytes: number;
}

const GB = 1e9;

export const RECOMMENDED_MODELS: readonly RecommendedModel[] = [
  {
    repo: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
    revision: 'main',
    description: 'Stable Diffusion 1.5: the reference model (860M-parameter UNet), best quality, slowest.',
    approxBytes: 2.1 * GB,
  },
  {
    repo: 'nota-ai/bk-sdm-small',
    revision: 'main',
    description: 'BK-SDM Small: SD 1.4 with UNet blocks removed and distilled (~0.49B UNet), faster.',
    approxBytes: 2.8 * GB,
  },
  {
    repo: 'nota-ai/bk-sdm-tiny',
    revision: 'main',
    description: 'BK-SDM Tiny: SD 1.4 block-removed and distilled to a ~0.33B UNet (no mid block), the fastest.',
    approxBytes: 2.1 * GB,
  },
  {
    repo: 'segmind/small-sd',
    revision: 'main',
    description: 'Segmind Small SD: a knowledge-distilled SD 1.5-family model (~0.58B UNet), a middle ground.',
    approxBytes: 3.1 * GB,
  },
  {
    repo: 'segmind/tiny-sd',
    revision: 'main',
    description: 'Segmind Tiny SD: a knowledge-distilled SD 1.5-family model (~0.32B UNet), quick on small GPUs.',
    approxBytes: 2.1 * GB,
  },
];
