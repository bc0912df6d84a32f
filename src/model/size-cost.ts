/**
 * What an image size costs on a model, estimated from its configs before any work starts: the
 * UNet's and VAE's activation bytes grow with the area, attention's time with the area squared
 * (the fused attention keeps no N×N buffer). A `SizeProfile` is plain data (the engine puts it in
 * `ModelInfo`), so the page warns with the same numbers the engine refuses by.
 *
 * Per latent pixel at UNet level i (area A/4^i, C_i channels), fp32, multiply-add = 2 flops:
 *  - a resnet's two 3×3 convs: 36 C²; a transformer layer's linears (proj in/out, attn1 q/k/v/o,
 *    attn2 q/o, GEGLU ff 8C and 4C→C): 40 C²; self-attention scores and sums: 4 C · A/4^i.
 *  - bytes: every skip kept for the up path, and the widest tensor (the GEGLU's 8C input where
 *    there is attention, else a 2C concat) with about three C-wide tensors beside it.
 * The VAE decoder at full size holds about three tensors as wide as its two first levels.
 * Largest buffers come out exact on tiny-sd; the peaks measured there (the buffer pool keeps freed
 * buffers by size, and a layer's intermediates live until it ends) are about MEASURED_PEAK × the
 * live bytes counted, for the UNet and the VAE alike.
 */
import type { UNetConfig, VaeConfig } from './config';

export interface SizeProfile {
  /** Pixels per side the model was made for (sample_size × the VAE's scale). */
  nativeSize: number;
  /** Image pixels per latent pixel, per side (2^(VAE levels − 1)). */
  vaeScale: number;
  /** UNet: bytes of live activations and of the largest buffer, per latent pixel per batch row. */
  unetBytes: number;
  unetLargestBytes: number;
  /** UNet flops per latent pixel (convs, linears) and per latent pixel squared (self-attention). */
  unetFlops: number;
  unetFlopsSquared: number;
  /** VAE decoder: bytes of live activations and of the largest buffer, per image pixel. */
  vaeBytes: number;
  vaeLargestBytes: number;
}

const F32 = 4;
/** Measured peak over live bytes (tiny-sd, UNet at 16² and 32² latents, VAE decoder at 128 and 256 px: 4.3 to 6). */
const MEASURED_PEAK = 5;

export function sizeProfile(unet: UNetConfig, vae: VaeConfig): SizeProfile {
  const boc = unet.blockOutChannels;
  const n = boc.length;
  let skips = boc[0];
  let working = 0;
  let largest = 0;
  let flops = 0;
  let flopsSquared = 0;
  for (let i = 0; i < n; i++) {
    const c = boc[i];
    const area = 1 / 4 ** i;
    const cross = unet.downBlockTypes[i] === 'CrossAttnDownBlock2D' || unet.upBlockTypes[n - 1 - i] === 'CrossAttnUpBlock2D' || (i === n - 1 && unet.midBlock);
    const layers = 2 * unet.layersPerBlock[i] + 1 + (i === n - 1 && unet.midBlock ? 1 : 0);
    const transformers = cross ? layers * unet.transformerLayersPerBlock[i] : 0;
    skips += area * c * unet.layersPerBlock[i] + (i < n - 1 ? (area / 4) * c : 0);
    const widest = cross ? 8 * c : 2 * c;
    largest = Math.max(largest, area * widest);
    working = Math.max(working, area * (widest + 3 * c));
    flops += area * (layers * 36 * c * c + transformers * 40 * c * c);
    flopsSquared += area * area * transformers * 4 * c;
  }
  const [c0, c1 = c0] = vae.blockOutChannels;
  const vaeWidest = Math.max(c0, c1);
  return {
    nativeSize: unet.sampleSize * 2 ** (vae.blockOutChannels.length - 1),
    vaeScale: 2 ** (vae.blockOutChannels.length - 1),
    unetBytes: MEASURED_PEAK * F32 * (skips + working),
    unetLargestBytes: F32 * largest,
    unetFlops: flops,
    unetFlopsSquared: flopsSquared,
    vaeBytes: MEASURED_PEAK * F32 * 3 * vaeWidest,
    vaeLargestBytes: F32 * vaeWidest,
  };
}

/** What the adapter can hold in one buffer (the device's limits, as `GpuCapabilities` reports them). */
export interface BufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface SizeRequest {
  width: number;
  height: number;
  /** UNet batch rows (generation: 2 per image for guidance; training: the batch size). */
  rows: number;
  /** Images the VAE decodes (0 when nothing is decoded). */
  images: number;
  /** What the size is for, in the message: "generating", "training". */
  purpose: string;
}

export interface SizeEstimate {
  /** The longer side over the native size. */
  scale: number;
  /** Peak activation bytes (the weights not included). */
  bytes: number;
  largestBufferBytes: number;
  /** UNet time per step over the native size's. */
  timeFactor: number;
}

export type SizeVerdict =
  | { kind: 'ok'; estimate: SizeEstimate }
  | { kind: 'warn'; estimate: SizeEstimate; message: string }
  | { kind: 'refuse'; estimate: SizeEstimate | null; message: string };

/** Sides above this many times the native size get a warning. */
export const WARN_SCALE = 2;

export function estimateSize(p: SizeProfile, r: Pick<SizeRequest, 'width' | 'height' | 'rows' | 'images'>): SizeEstimate {
  const latentArea = (r.width / p.vaeScale) * (r.height / p.vaeScale);
  const nativeArea = (p.nativeSize / p.vaeScale) ** 2;
  const unetTime = (a: number) => p.unetFlops * a + p.unetFlopsSquared * a * a;
  const pixels = r.width * r.height;
  return {
    scale: Math.max(r.width, r.height) / p.nativeSize,
    bytes: Math.max(r.rows * latentArea * p.unetBytes, r.images > 0 ? pixels * p.vaeBytes : 0),
    largestBufferBytes: Math.max(r.rows * latentArea * p.unetLargestBytes, r.images > 0 ? pixels * p.vaeLargestBytes : 0),
    timeFactor: unetTime(latentArea) / unetTime(nativeArea),
  };
}

const gb = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 2 ** 20))} MB`);
const times = (x: number) => (x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));

/**
 * The size checked before any work: refused when not positive multiples of the VAE's scale, or
 * when its largest buffer is more than the adapter holds; a warning above WARN_SCALE × native.
 */
export function checkImageSize(p: SizeProfile, r: SizeRequest, limits: BufferLimits): SizeVerdict {
  const { width, height } = r;
  const size = width === height ? `${width} px` : `${width}×${height} px`;
  if (![width, height].every((s) => Number.isInteger(s) && s > 0 && s % p.vaeScale === 0)) {
    return { kind: 'refuse', estimate: null, message: `Image size ${width}×${height} must be positive multiples of ${p.vaeScale}.` };
  }
  const estimate = estimateSize(p, r);
  const holds = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  if (estimate.largestBufferBytes > holds) {
    return {
      kind: 'refuse',
      estimate,
      message: `${size} is too large for ${r.purpose} on this GPU: its largest buffer would be about ${gb(estimate.largestBufferBytes)}, and the adapter holds at most ${gb(holds)} in one.`,
    };
  }
  if (estimate.scale > WARN_SCALE) {
    return {
      kind: 'warn',
      estimate,
      message: `${size} is ${times(estimate.scale)}× this model's ${p.nativeSize} px: about ${gb(estimate.bytes)} of activations and ${times(estimate.timeFactor)}× the time per step.`,
    };
  }
  return { kind: 'ok', estimate };
}
