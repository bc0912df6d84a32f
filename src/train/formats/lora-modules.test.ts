import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClipTextConfig, parseUNetConfig } from '../../model/config';
import { renameClipKey } from '../../model/clip';
import { SafetensorsFile } from '../../model/safetensors-reader';
import { BUILTIN_MODEL_DIR } from '../../model/sources/node-folder';
import { TINY_SD } from '../../test/model-fixtures';
import { diffusersModulePath, kohyaModuleName, textEncoderModules, unetModules } from './lora-modules';

/** Linear and conv weights of a checkpoint (norms and embedding tables left out), by module path. */
async function checkpointModules(root: string, file: string, rename = (k: string) => k): Promise<Map<string, number[]>> {
  const f = await SafetensorsFile.open(new Uint8Array(readFileSync(join(root, file))), file);
  const out = new Map<string, number[]>();
  for (const key of f.names()) {
    const name = rename(key);
    const shape = f.info(key).shape;
    if (!name.endsWith('.weight') || ![2, 4].includes(shape.length) || /norm|embeddings\./.test(name)) continue;
    out.set(name.slice(0, -'.weight'.length), shape);
  }
  return out;
}

const config = (root: string, file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

describe('the module catalogue', () => {
  for (const [name, root] of [['tiny-sd', TINY_SD], ['shapes-sd', BUILTIN_MODEL_DIR]] as const) {
    it(`lists exactly the UNet's linears and convolutions of ${name}, with their shapes`, async () => {
      const listed = unetModules(parseUNetConfig(config(root, 'unet/config.json')));
      const stored = await checkpointModules(root, 'unet/diffusion_pytorch_model.safetensors');
      expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(stored));
    });

    it(`lists exactly the text encoder's projections and MLP of ${name}`, async () => {
      const listed = textEncoderModules(parseClipTextConfig(config(root, 'text_encoder/config.json')));
      const stored = await checkpointModules(root, 'text_encoder/model.safetensors', renameClipKey);
      expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(stored));
    });
  }

  it('names modules as kohya and diffusers do', () => {
    expect(kohyaModuleName('unet', 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0')).toBe('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_out_0');
    expect(kohyaModuleName('text_encoder', 'encoder.layers.11.self_attn.q_proj')).toBe('lora_te_text_model_encoder_layers_11_self_attn_q_proj');
    expect(diffusersModulePath('text_encoder', 'encoder.layers.0.mlp.fc1')).toBe('text_encoder.text_model.encoder.layers.0.mlp.fc1');
    expect(diffusersModulePath('unet', 'mid_block.resnets.0.conv1')).toBe('unet.mid_block.resnets.0.conv1');
  });
});
