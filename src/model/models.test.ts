import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { clipTextEncoder, renameClipKey } from './clip';
import { parseClipTextConfig, parseUNetConfig, parseVaeConfig } from './config';
import { unetForward } from './unet';
import { vaeDecode, vaeEncode } from './vae';
import { SafetensorsFile } from './safetensors-reader';
import { Weights } from './weights';
import { relativeError } from '../test/compare';

const FIXTURES = resolve(__dirname, '../test/fixtures');

async function openSafetensors(path: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(new Uint8Array(readFileSync(path)), path);
}

const golden = await openSafetensors(`${FIXTURES}/tiny-sd-golden/golden.safetensors`);
async function g(name: string): Promise<{ data: Float32Array; shape: number[] }> {
  const data = await golden.read(name);
  const f = data instanceof BigInt64Array ? Float32Array.from(data, Number) : (data as Float32Array);
  return { data: f, shape: golden.info(name).shape };
}
const json = (p: string) => JSON.parse(readFileSync(`${FIXTURES}/tiny-sd/${p}`, 'utf8'));


describe('tiny-sd models vs diffusers goldens', () => {
  let text: Weights;
  let unet: Weights;
  let vae: Weights;
  beforeAll(async () => {
    text = await Weights.load('text_encoder', await openSafetensors(`${FIXTURES}/tiny-sd/text_encoder/model.safetensors`), { rename: renameClipKey });
    unet = await Weights.load('unet', await openSafetensors(`${FIXTURES}/tiny-sd/unet/diffusion_pytorch_model.safetensors`));
    vae = await Weights.load('vae', await openSafetensors(`${FIXTURES}/tiny-sd/vae/diffusion_pytorch_model.safetensors`));
  });
  afterAll(() => [text, unet, vae].forEach((w) => w.dispose()));

  it('CLIP text encoder: last hidden state, pooled, every hidden state', async () => {
    const config = parseClipTextConfig(json('text_encoder/config.json'));
    const ids = await g('text.input_ids');
    const idsT = tf.tensor2d(Int32Array.from(ids.data), ids.shape as [number, number], 'int32');
    const out = clipTextEncoder(text, config, idsT, { outputHiddenStates: true });
    const report: Record<string, number> = {};
    report.last = relativeError(await out.lastHiddenState.data(), (await g('text.last_hidden_state')).data);
    report.pooled = relativeError(await out.pooled.data(), (await g('text.pooler_output')).data);
    for (let i = 0; i < out.hiddenStates!.length; i++) report[`h${i}`] = relativeError(await out.hiddenStates![i].data(), (await g(`text.hidden_states.${i}`)).data);
    tf.dispose([idsT, out.lastHiddenState, out.pooled, ...out.hiddenStates!]);
    console.log(report);
    Object.values(report).forEach((r) => expect(r).toBeLessThan(1e-3));
  });

  it('UNet: output and every intermediate', async () => {
    const config = parseUNetConfig(json('unet/config.json'));
    const sample = await g('unet.sample');
    const ehs = await g('unet.encoder_hidden_states');
    const ts = await g('unet.timesteps');
    const acts = new Map<string, tf.Tensor>();
    const x = tf.tensor4d(sample.data, sample.shape as [number, number, number, number]);
    const c = tf.tensor3d(ehs.data, ehs.shape as [number, number, number]);
    const out = unetForward(unet, config, { sample: x, timesteps: ts.data, encoderHiddenStates: c }, acts);
    const report: Record<string, number> = { out: relativeError(await out.data(), (await g('unet.out')).data) };
    for (const [name, t] of acts) report[name] = relativeError(await t.data(), (await g(`unet.act.${name}`)).data);
    tf.dispose([x, c, out, ...acts.values()]);
    console.log(report);
    Object.values(report).forEach((r) => expect(r).toBeLessThan(1e-3));
  });

  it('VAE: posterior and decode', async () => {
    const config = parseVaeConfig(json('vae/config.json'));
    const image = await g('vae.image');
    const latent = await g('vae.latent');
    const x = tf.tensor4d(image.data, image.shape as [number, number, number, number]);
    const z = tf.tensor4d(latent.data, latent.shape as [number, number, number, number]);
    const post = vaeEncode(vae, config, x);
    const dec = vaeDecode(vae, config, z);
    const report = {
      mean: relativeError(await post.mean.data(), (await g('vae.posterior_mean')).data),
      logvar: relativeError(await post.logvar.data(), (await g('vae.posterior_logvar')).data),
      decoded: relativeError(await dec.data(), (await g('vae.decoded')).data),
    };
    tf.dispose([x, z, post.mean, post.logvar, dec]);
    console.log(report);
    Object.values(report).forEach((r) => expect(r).toBeLessThan(1e-3));
  });

  it('a checkpoint that does not fit its config is named in the error, and nothing leaks', async () => {
    const config = parseUNetConfig({ ...json('unet/config.json'), cross_attention_dim: 48 });
    const x = tf.zeros([1, 4, 8, 8]) as tf.Tensor4D;
    const c = tf.zeros([1, 77, 48]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    expect(() => unetForward(unet, config, { sample: x, timesteps: [10], encoderHiddenStates: c })).toThrow(
      /unet: weight 'down_blocks\.0\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k\.weight' has shape \[32,32\], the config needs \[32,48\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, c]);
  });

  it('keeps F16-stored linear and conv weights packed: about half the fp32 bytes, same outputs', async () => {
    const file = await openSafetensors(`${FIXTURES}/tiny-sd/unet/diffusion_pytorch_model.safetensors`);
    const fp32 = await Weights.load('unet', file, { precision: 'f32' });
    expect(unet.bytes / fp32.bytes).toBeLessThan(0.52);
    expect(unet.bytes / fp32.bytes).toBeGreaterThan(0.48);
    const config = parseUNetConfig(json('unet/config.json'));
    const x = tf.tensor4d((await g('unet.sample')).data, [2, 4, 32, 32]);
    const c = tf.tensor3d((await g('unet.encoder_hidden_states')).data, [2, 77, 32]);
    const input = { sample: x, timesteps: [999, 10], encoderHiddenStates: c };
    const [a, b] = [unetForward(unet, config, input), unetForward(fp32, config, input)];
    expect(relativeError(await a.data(), await b.data())).toBeLessThan(1e-5);
    tf.dispose([x, c, a, b]);
    fp32.dispose();
  });

  it('runs other SD 1.x-family topologies: no mid block, one layer per block, linear projections, head lists', async () => {
    const config = parseUNetConfig({
      ...json('unet/config.json'),
      block_out_channels: [32, 64, 64],
      down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
      mid_block_type: null,
      layers_per_block: 1,
      attention_head_dim: [2, 4, 8],
      use_linear_projection: true,
    });
    const w = Weights.synthetic('unet', 'f16');
    const x = tf.randomNormal([1, 4, 12, 12]) as tf.Tensor4D;
    const c = tf.randomNormal([1, 77, 32]) as tf.Tensor3D;
    const out = unetForward(w, config, { sample: x, timesteps: [10], encoderHiddenStates: c });
    expect(out.shape).toEqual([1, 4, 12, 12]);
    expect((await out.data()).every(Number.isFinite)).toBe(true);
    const names = w.names();
    expect(names.some((n) => n.startsWith('mid_block'))).toBe(false);
    expect(names).toContain('down_blocks.0.attentions.0.proj_in.weight');
    expect(names).not.toContain('down_blocks.0.resnets.1.conv1.weight');
    expect(names).toContain('up_blocks.2.resnets.1.conv1.weight'); // up blocks have layers_per_block + 1 resnets
    tf.dispose([x, c, out]);
    w.dispose();
  });
});
