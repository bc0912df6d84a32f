/**
 * Every module of an SD 1.x/2.x pipeline a LoRA may adapt, from the configs alone (no tensors):
 * the UNet's linears and convolutions (transformer blocks, resnets, samplers, time embedding,
 * conv_in/out) and the CLIP text encoder's attention projections and MLP. Paths are the model's
 * weight keys without `.weight` (`down_blocks.0.resnets.0.conv1`, `encoder.layers.0.mlp.fc1`);
 * shapes are PyTorch's: [out, in] for a linear, [out, in, k, k] for a convolution.
 */
import type { ClipTextConfig, UNetConfig } from '../../model/config';

export type LoraComponent = 'unet' | 'text_encoder';
export const LORA_COMPONENTS: readonly LoraComponent[] = ['unet', 'text_encoder'];

/** One UNet cross-attention module: checkpoint prefix (`…transformer_blocks.0.attn2`) and width. */
export interface CrossAttention {
  prefix: string;
  channels: number;
}

/** Every `attn2` of the UNet, walking the blocks in the order `unetForward` runs them. */
export function crossAttentionLayers(c: UNetConfig): CrossAttention[] {
  return transformerBlocks(c).flatMap(({ prefix, channels, layers }) =>
    Array.from({ length: layers }, (_, t) => ({ prefix: `${prefix}.transformer_blocks.${t}.attn2`, channels })),
  );
}

interface Transformer2d {
  /** `down_blocks.0.attentions.1` */
  prefix: string;
  channels: number;
  layers: number;
}

function transformerBlocks(c: UNetConfig): Transformer2d[] {
  const out: Transformer2d[] = [];
  const boc = c.blockOutChannels;
  const n = boc.length;
  const add = (block: string, attentions: number, layers: number, channels: number) => {
    for (let j = 0; j < attentions; j++) out.push({ prefix: `${block}.attentions.${j}`, channels, layers });
  };
  for (let i = 0; i < n; i++) {
    if (c.downBlockTypes[i] === 'CrossAttnDownBlock2D') add(`down_blocks.${i}`, c.layersPerBlock[i], c.transformerLayersPerBlock[i], boc[i]);
  }
  if (c.midBlock) add('mid_block', 1, c.transformerLayersPerBlock[n - 1], boc[n - 1]);
  for (let i = 0; i < n; i++) {
    const r = n - 1 - i; // up block i mirrors down block n − 1 − i
    if (c.upBlockTypes[i] === 'CrossAttnUpBlock2D') add(`up_blocks.${i}`, c.layersPerBlock[r] + 1, c.transformerLayersPerBlock[r], boc[r]);
  }
  return out;
}

/** The shape of every adaptable UNet module by path. */
export function unetModules(c: UNetConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const boc = c.blockOutChannels;
  const n = boc.length;
  const temb = c.timeEmbedDim;
  const conv = (path: string, o: number, i: number, k: number) => out.set(path, [o, i, k, k]);
  const resnet = (p: string, inC: number, outC: number) => {
    conv(`${p}.conv1`, outC, inC, 3);
    out.set(`${p}.time_emb_proj`, [outC, temb]);
    conv(`${p}.conv2`, outC, outC, 3);
    if (inC !== outC) conv(`${p}.conv_shortcut`, outC, inC, 1);
  };
  conv('conv_in', boc[0], c.inChannels, c.convInKernel);
  out.set('time_embedding.linear_1', [temb, boc[0]]);
  out.set('time_embedding.linear_2', [temb, temb]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c.layersPerBlock[i]; j++) resnet(`down_blocks.${i}.resnets.${j}`, j === 0 ? boc[Math.max(i - 1, 0)] : boc[i], boc[i]);
    if (i < n - 1) conv(`down_blocks.${i}.downsamplers.0.conv`, boc[i], boc[i], 3);
  }
  if (c.midBlock) for (const j of [0, 1]) resnet(`mid_block.resnets.${j}`, boc[n - 1], boc[n - 1]);
  const rev = [...boc].reverse();
  const revLayers = [...c.layersPerBlock].reverse();
  for (let i = 0; i < n; i++) {
    const prevOut = rev[Math.max(i - 1, 0)];
    const skipIn = rev[Math.min(i + 1, n - 1)];
    const layers = revLayers[i] + 1;
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? skipIn : rev[i];
      resnet(`up_blocks.${i}.resnets.${j}`, (j === 0 ? prevOut : rev[i]) + skip, rev[i]);
    }
    if (i < n - 1) conv(`up_blocks.${i}.upsamplers.0.conv`, rev[i], rev[i], 3);
  }
  for (const { prefix, channels: C, layers } of transformerBlocks(c)) {
    for (const p of ['proj_in', 'proj_out']) out.set(`${prefix}.${p}`, c.useLinearProjection ? [C, C] : [C, C, 1, 1]);
    for (let t = 0; t < layers; t++) {
      const block = `${prefix}.transformer_blocks.${t}`;
      for (const attn of ['attn1', 'attn2']) {
        const ctx = attn === 'attn2' ? c.crossAttentionDim : C;
        out.set(`${block}.${attn}.to_q`, [C, C]);
        out.set(`${block}.${attn}.to_k`, [C, ctx]);
        out.set(`${block}.${attn}.to_v`, [C, ctx]);
        out.set(`${block}.${attn}.to_out.0`, [C, C]);
      }
      out.set(`${block}.ff.net.0.proj`, [8 * C, C]);
      out.set(`${block}.ff.net.2`, [C, 4 * C]);
    }
  }
  conv('conv_out', c.outChannels, boc[0], c.convOutKernel);
  return out;
}

/** The shape of every adaptable text-encoder linear by path (`encoder.layers.0.self_attn.q_proj`). */
export function textEncoderModules(c: ClipTextConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const D = c.hiddenSize;
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `encoder.layers.${i}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) out.set(`${p}.self_attn.${proj}`, [D, D]);
    out.set(`${p}.mlp.fc1`, [c.intermediateSize, D]);
    out.set(`${p}.mlp.fc2`, [D, c.intermediateSize]);
  }
  return out;
}

/** The configs a LoRA is mapped onto. */
export interface LoraModels {
  unet: UNetConfig;
  /** Absent: text-encoder layers cannot be placed (and are refused). */
  text?: ClipTextConfig;
}

export function componentModules(models: LoraModels, component: LoraComponent): Map<string, number[]> {
  if (component === 'unet') return unetModules(models.unet);
  return models.text ? textEncoderModules(models.text) : new Map();
}

/**
 * The module's path as diffusers names it inside the pipeline, with its component:
 * `unet.down_blocks.0.….to_k`, `text_encoder.text_model.encoder.layers.0.self_attn.q_proj`.
 */
export function diffusersModulePath(component: LoraComponent, path: string): string {
  return component === 'unet' ? `unet.${path}` : `text_encoder.${peftModuleName(component, path)}`;
}

/** The module's name inside its component's model, as PEFT matches patterns against it. */
export function peftModuleName(component: LoraComponent, path: string): string {
  return component === 'text_encoder' ? `text_model.${path}` : path;
}

export const KOHYA_PREFIX: Record<LoraComponent, string> = { unet: 'lora_unet_', text_encoder: 'lora_te_' };

/** kohya's name: `lora_unet_down_blocks_0_…_to_out_0`, `lora_te_text_model_encoder_layers_0_mlp_fc1`. */
export function kohyaModuleName(component: LoraComponent, path: string): string {
  return KOHYA_PREFIX[component] + peftModuleName(component, path).replace(/\./g, '_');
}

/** A linear is [out, in]; a convolution [out, in, kh, kw]. */
export function isConvShape(shape: readonly number[]): boolean {
  return shape.length === 4;
}
