import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { measureGpuMemory } from '../gpu/memory';
import { randomNormal } from '../common/random';
import { parseUNetConfig, parseVaeConfig } from './config';
import { SD15_UNET, SD15_VAE } from './sd15-configs';
import { checkImageSize, estimateSize, sizeProfile } from './size-cost';
import { nodeFolderSource } from './sources/node-folder';
import { loadStableDiffusion } from './load';
import { unetForward } from './unet';
import { vaeDecode } from './vae';
import { TINY_SD } from '../test/model-fixtures';

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const builtin = sizeProfile(parseUNetConfig(json('../../public/models/shapes-sd/unet/config.json')), parseVaeConfig(json('../../public/models/shapes-sd/vae/config.json')));
const sd15 = sizeProfile(parseUNetConfig(SD15_UNET), parseVaeConfig(SD15_VAE));
const GB = 2 ** 30;
const roomy = { maxBufferSize: 4 * GB, maxStorageBufferBindingSize: 4 * GB };
const generating = (width: number, height = width) => ({ width, height, rows: 2, images: 1, purpose: 'generating' });

describe('image sizes against the model and the adapter', () => {
  it('the native size is sample_size × the VAE’s scale', () => {
    expect(builtin.nativeSize).toBe(64);
    expect(sd15.nativeSize).toBe(512);
    expect(sd15.vaeScale).toBe(8);
  });

  it('refuses sizes that are not positive multiples of 8', () => {
    for (const [w, h] of [[1000, 1001], [0, 64], [-8, 64], [64.5, 64]]) {
      const v = checkImageSize(builtin, generating(w, h), roomy);
      expect(v.kind).toBe('refuse');
      expect(v.kind === 'refuse' && v.message).toBe(`Image size ${w}×${h} must be positive multiples of 8.`);
    }
  });

  it('up to 2× native is fine; above, a warning with the scale, the memory and the time', () => {
    expect(checkImageSize(builtin, generating(64), roomy).kind).toBe('ok');
    expect(checkImageSize(builtin, generating(128), roomy).kind).toBe('ok');
    const v = checkImageSize(builtin, generating(1000), roomy);
    expect(v.kind).toBe('warn');
    expect(v.kind === 'warn' && v.message).toMatch(/^1000 px is 15\.6× this model's 64 px: about [\d.]+ (MB|GB) of activations and [\d,]+× the time per step\.$/);
  });

  it('memory grows with the area and time faster (attention with the area squared)', () => {
    const at = (s: number) => estimateSize(sd15, generating(s));
    expect(at(512).timeFactor).toBe(1);
    expect(at(1024).bytes).toBeCloseTo(4 * at(512).bytes, 0);
    expect(at(1024).timeFactor).toBeGreaterThan(4);
    expect(at(2048).timeFactor / at(1024).timeFactor).toBeGreaterThan(at(1024).timeFactor / at(512).timeFactor);
  });

  it('refuses a size whose largest buffer is more than the adapter holds, naming both', () => {
    const small = { maxBufferSize: 4 * GB, maxStorageBufferBindingSize: 2 * GB };
    expect(checkImageSize(sd15, generating(1280), small).kind).toBe('warn');
    const v = checkImageSize(sd15, generating(2048), small);
    expect(v.kind).toBe('refuse');
    expect(v.kind === 'refuse' && v.message).toMatch(/^2048 px is too large for generating on this GPU: its largest buffer would be about [\d.]+ GB, and the adapter holds at most 2\.0 GB in one\.$/);
    expect(checkImageSize(sd15, generating(2048), { maxBufferSize: 64 * GB, maxStorageBufferBindingSize: 64 * GB }).kind).toBe('warn');
  });

  it('on the GPU: the largest buffers as estimated, the peaks within 2× (UNet forward, VAE decode at 256 px)', async () => {
    const model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
    const profile = sizeProfile(model.unet.config, model.vae.config);
    const { weights, config } = model.unet;
    const sample = tf.tensor4d(randomNormal(2 * 4 * 32 * 32, 1), [2, 4, 32, 32]);
    const context = tf.tensor3d(randomNormal(2 * 77 * config.crossAttentionDim, 2), [2, 77, config.crossAttentionDim]);
    const unet = await measureGpuMemory(() => unetForward(weights, config, { sample, timesteps: [1, 1], encoderHiddenStates: context }));
    const vae = await measureGpuMemory(() => tf.tidy(() => vaeDecode(model.vae.weights, model.vae.config, sample.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D)));
    tf.dispose([unet.result, vae.result, sample, context]);
    model.dispose();
    const unetEstimate = estimateSize(profile, { width: 256, height: 256, rows: 2, images: 0 });
    const vaeEstimate = estimateSize(profile, { width: 256, height: 256, rows: 0, images: 1 });
    expect(unet.largestBufferBytes).toBe(unetEstimate.largestBufferBytes);
    expect(vae.largestBufferBytes).toBe(vaeEstimate.largestBufferBytes);
    for (const ratio of [unet.peakBytes / unetEstimate.bytes, vae.peakBytes / vaeEstimate.bytes]) {
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    }
  });
});
