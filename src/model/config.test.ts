import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClipTextConfig, parseUNetConfig, parseVaeConfig } from './config';

const fixture = (p: string) => JSON.parse(readFileSync(resolve(__dirname, '../test/fixtures/tiny-sd', p), 'utf8'));

describe('model configs', () => {
  it('parse the fixture, mapping SD 1.x attention_head_dim to heads per block', () => {
    const unet = parseUNetConfig(fixture('unet/config.json'));
    expect(unet.numAttentionHeads).toEqual([8, 8, 8, 8]);
    expect(unet.layersPerBlock).toEqual([2, 2, 2, 2]);
    expect(unet.midBlock).toBe(true);
    expect(unet.timeEmbedDim).toBe(128);
    expect(parseClipTextConfig(fixture('text_encoder/config.json')).hiddenAct).toBe('quick_gelu');
    expect(parseVaeConfig(fixture('vae/config.json')).scalingFactor).toBe(0.18215);
  });

  it('take BK-SDM style topologies (no mid block, one layer per block) and SD 2.x head lists', () => {
    const c = {
      ...fixture('unet/config.json'),
      mid_block_type: null,
      layers_per_block: 1,
      attention_head_dim: [2, 4, 4, 8],
      use_linear_projection: true,
    };
    const unet = parseUNetConfig(c);
    expect(unet.midBlock).toBe(false);
    expect(unet.layersPerBlock).toEqual([1, 1, 1, 1]);
    expect(unet.numAttentionHeads).toEqual([2, 4, 4, 8]);
    expect(unet.useLinearProjection).toBe(true);
  });

  it('name the field and value the code cannot run', () => {
    const base = fixture('unet/config.json');
    expect(() => parseUNetConfig({ ...base, down_block_types: ['CrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'] })).toThrow(
      /down_block_types\[1\] = "SimpleCrossAttnDownBlock2D"/,
    );
    expect(() => parseUNetConfig({ ...base, mid_block_type: 'UNetMidBlock2DSimpleCrossAttn' })).toThrow(/mid_block_type/);
    expect(() => parseUNetConfig({ ...base, addition_embed_type: 'text_time' })).toThrow(/addition_embed_type = "text_time"/);
    expect(() => parseUNetConfig({ ...base, attention_head_dim: 7 })).toThrow(/attention_head_dim/);
    expect(() => parseUNetConfig({ ...base, block_out_channels: [32, 64] })).toThrow(/down_block_types/);
    expect(() => parseClipTextConfig({ ...fixture('text_encoder/config.json'), hidden_act: 'relu' })).toThrow(/hidden_act = "relu"/);
    expect(() => parseVaeConfig({ ...fixture('vae/config.json'), up_block_types: ['UpDecoderBlock2D', 'AttnUpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'] })).toThrow(
      /up_block_types\[1\]/,
    );
  });
});
