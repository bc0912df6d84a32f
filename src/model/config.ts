/**
 * Model configs, parsed once from diffusers/transformers `config.json`. Keys keep the libraries'
 * names; anything the code cannot run fails loudly here, naming the field and value. Legacy
 * oddities are mapped in one place (SD 1.x's `attention_head_dim` is the number of heads).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(model: string, field: string, value: unknown, expected: string) {
    super(`${model} config: ${field} = ${JSON.stringify(value)} is not supported (${expected}).`);
  }
}

export type Json = Record<string, unknown>;

// Readers of one config field: the value, or `fallback` when the key is absent; anything else
// fails naming the field and value. Shared by the model and scheduler configs.

export function readInt(model: string, c: Json, field: string, fallback?: number, min = 0): number {
  const v = c[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(model, field, v, `an integer >= ${min}`);
  return v;
}

export function readNumber(model: string, c: Json, field: string, fallback?: number): number {
  const v = c[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(model, field, v, 'a number');
  return v;
}

export function readBool(model: string, c: Json, field: string, fallback?: boolean): boolean {
  const v = c[field] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(model, field, v, 'true or false');
  return v;
}

export function readOneOf<T extends string>(model: string, c: Json, field: string, allowed: readonly T[], fallback?: T): T {
  const v = c[field] ?? fallback;
  if (!allowed.includes(v as T)) throw new ConfigError(model, field, v, `one of ${allowed.join(', ')}`);
  return v as T;
}

/** Fails on an option this code does not implement unless it holds its harmless default. */
export function rejectUnless(model: string, c: Json, field: string, allowed: readonly unknown[]): void {
  const v = c[field];
  if (v !== undefined && !allowed.includes(v)) throw new ConfigError(model, field, v, `only ${allowed.map((a) => JSON.stringify(a)).join(' or ')} is supported`);
}

/** Sizes: integers of at least 1. */
const int = (model: string, c: Json, field: string, fallback?: number) => readInt(model, c, field, fallback, 1);
const num = readNumber;
const oneOf = readOneOf;

function perBlock(model: string, c: Json, field: string, blocks: number, fallback?: number | number[]): number[] {
  const v = c[field] ?? fallback;
  const list = typeof v === 'number' ? Array(blocks).fill(v) : v;
  if (!Array.isArray(list) || list.length !== blocks || !list.every((x) => Number.isInteger(x) && x > 0)) {
    throw new ConfigError(model, field, v, `a positive integer or a list of ${blocks}`);
  }
  return list as number[];
}

function absent(model: string, c: Json, field: string): void {
  if (c[field] !== undefined && c[field] !== null && c[field] !== false) throw new ConfigError(model, field, c[field], 'only null is supported');
}

// ---------------------------------------------------------------------------------------------

export interface ClipTextConfig {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  maxPositionEmbeddings: number;
  vocabSize: number;
  hiddenAct: 'quick_gelu' | 'gelu';
  layerNormEps: number;
  eosTokenId: number;
}

export function parseClipTextConfig(c: Json): ClipTextConfig {
  const m = 'text_encoder';
  const config: ClipTextConfig = {
    hiddenSize: int(m, c, 'hidden_size'),
    intermediateSize: int(m, c, 'intermediate_size'),
    numHiddenLayers: int(m, c, 'num_hidden_layers'),
    numAttentionHeads: int(m, c, 'num_attention_heads'),
    maxPositionEmbeddings: int(m, c, 'max_position_embeddings', 77),
    vocabSize: int(m, c, 'vocab_size'),
    hiddenAct: oneOf(m, c, 'hidden_act', ['quick_gelu', 'gelu'] as const, 'quick_gelu'),
    layerNormEps: num(m, c, 'layer_norm_eps', 1e-5),
    eosTokenId: int(m, c, 'eos_token_id', 2),
  };
  if (config.hiddenSize % config.numAttentionHeads !== 0) {
    throw new ConfigError(m, 'num_attention_heads', config.numAttentionHeads, `must divide hidden_size ${config.hiddenSize}`);
  }
  return config;
}

// ---------------------------------------------------------------------------------------------

export const DOWN_BLOCK_TYPES = ['CrossAttnDownBlock2D', 'DownBlock2D'] as const;
export const UP_BLOCK_TYPES = ['CrossAttnUpBlock2D', 'UpBlock2D'] as const;

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number[];
  downBlockTypes: (typeof DOWN_BLOCK_TYPES)[number][];
  upBlockTypes: (typeof UP_BLOCK_TYPES)[number][];
  midBlock: boolean;
  /** Heads per down block (after the SD 1.x legacy mapping). */
  numAttentionHeads: number[];
  transformerLayersPerBlock: number[];
  crossAttentionDim: number;
  normNumGroups: number;
  normEps: number;
  useLinearProjection: boolean;
  flipSinToCos: boolean;
  freqShift: number;
  downsamplePadding: number;
  convInKernel: number;
  convOutKernel: number;
  timeEmbedDim: number;
  /** Native latent size (pixels / 8). */
  sampleSize: number;
}

function readBlockOutChannels(model: string, c: Json): number[] {
  const channels = c.block_out_channels;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((x) => Number.isInteger(x) && x > 0)) {
    throw new ConfigError(model, 'block_out_channels', channels, 'a list of positive integers');
  }
  return channels as number[];
}

export function parseUNetConfig(c: Json): UNetConfig {
  const m = 'unet';
  const blockOutChannels = readBlockOutChannels(m, c);
  const n = blockOutChannels.length;
  const list = <T extends string>(field: string, allowed: readonly T[]): T[] => {
    const v = c[field];
    if (!Array.isArray(v) || v.length !== n) throw new ConfigError(m, field, v, `a list of ${n} block types`);
    v.forEach((t, i) => {
      if (!allowed.includes(t as T)) throw new ConfigError(m, `${field}[${i}]`, t, `one of ${allowed.join(', ')}`);
    });
    return v as T[];
  };
  const downBlockTypes = list('down_block_types', DOWN_BLOCK_TYPES);
  const upBlockTypes = list('up_block_types', UP_BLOCK_TYPES);
  const midType = c.mid_block_type === undefined ? 'UNetMidBlock2DCrossAttn' : c.mid_block_type;
  if (midType !== 'UNetMidBlock2DCrossAttn' && midType !== null) {
    throw new ConfigError(m, 'mid_block_type', midType, 'UNetMidBlock2DCrossAttn or null');
  }
  // Legacy: in SD 1.x/2.x configs `attention_head_dim` holds the number of heads (diffusers
  // keeps this naming for backwards compatibility); `num_attention_heads` wins when set.
  const heads = perBlock(m, c, c.num_attention_heads != null ? 'num_attention_heads' : 'attention_head_dim', n, 8);
  heads.forEach((h, i) => {
    if (blockOutChannels[i] % h !== 0) throw new ConfigError(m, 'attention_head_dim', c.attention_head_dim, `heads must divide block_out_channels[${i}] = ${blockOutChannels[i]}`);
  });
  for (const field of ['class_embed_type', 'addition_embed_type', 'encoder_hid_dim', 'time_cond_proj_dim', 'num_class_embeds']) absent(m, c, field);
  if ((c.time_embedding_type ?? 'positional') !== 'positional') throw new ConfigError(m, 'time_embedding_type', c.time_embedding_type, 'positional');
  if ((c.act_fn ?? 'silu') !== 'silu') throw new ConfigError(m, 'act_fn', c.act_fn, 'silu');
  if ((c.resnet_time_scale_shift ?? 'default') !== 'default') throw new ConfigError(m, 'resnet_time_scale_shift', c.resnet_time_scale_shift, 'default');
  if (c.only_cross_attention === true || Array.isArray(c.only_cross_attention)) throw new ConfigError(m, 'only_cross_attention', c.only_cross_attention, 'false');
  if (c.dual_cross_attention === true) throw new ConfigError(m, 'dual_cross_attention', true, 'false');
  if (c.upcast_attention === true) {
    // Upcasting only changes precision in half-float runs; we compute attention in f32 anyway.
  }
  const normGroups = int(m, c, 'norm_num_groups', 32);
  blockOutChannels.forEach((ch, i) => {
    if (ch % normGroups !== 0) throw new ConfigError(m, 'norm_num_groups', normGroups, `must divide block_out_channels[${i}] = ${ch}`);
  });
  return {
    inChannels: int(m, c, 'in_channels', 4),
    outChannels: int(m, c, 'out_channels', 4),
    blockOutChannels,
    layersPerBlock: perBlock(m, c, 'layers_per_block', n, 2),
    downBlockTypes,
    upBlockTypes,
    midBlock: midType !== null,
    numAttentionHeads: heads,
    transformerLayersPerBlock: perBlock(m, c, 'transformer_layers_per_block', n, 1),
    crossAttentionDim: int(m, c, 'cross_attention_dim', 768),
    normNumGroups: normGroups,
    normEps: num(m, c, 'norm_eps', 1e-5),
    useLinearProjection: c.use_linear_projection === true,
    flipSinToCos: c.flip_sin_to_cos !== false,
    freqShift: num(m, c, 'freq_shift', 0),
    downsamplePadding: num(m, c, 'downsample_padding', 1),
    convInKernel: int(m, c, 'conv_in_kernel', 3),
    convOutKernel: int(m, c, 'conv_out_kernel', 3),
    timeEmbedDim: c.time_embedding_dim == null ? blockOutChannels[0] * 4 : int(m, c, 'time_embedding_dim'),
    sampleSize: Array.isArray(c.sample_size) ? int(m, { s: c.sample_size[0] }, 's') : int(m, c, 'sample_size', 64),
  };
}

// ---------------------------------------------------------------------------------------------

export interface VaeConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  normNumGroups: number;
  scalingFactor: number;
  midBlockAttention: boolean;
  useQuantConv: boolean;
  usePostQuantConv: boolean;
}

export function parseVaeConfig(c: Json): VaeConfig {
  const m = 'vae';
  const blockOutChannels = readBlockOutChannels(m, c);
  const n = blockOutChannels.length;
  (c.down_block_types as unknown[] | undefined)?.forEach((t, i) => {
    if (t !== 'DownEncoderBlock2D') throw new ConfigError(m, `down_block_types[${i}]`, t, 'DownEncoderBlock2D');
  });
  (c.up_block_types as unknown[] | undefined)?.forEach((t, i) => {
    if (t !== 'UpDecoderBlock2D') throw new ConfigError(m, `up_block_types[${i}]`, t, 'UpDecoderBlock2D');
  });
  if ((c.down_block_types as unknown[] | undefined)?.length !== undefined && (c.down_block_types as unknown[]).length !== n) {
    throw new ConfigError(m, 'down_block_types', c.down_block_types, `${n} entries, one per block_out_channels`);
  }
  if ((c.act_fn ?? 'silu') !== 'silu') throw new ConfigError(m, 'act_fn', c.act_fn, 'silu');
  return {
    inChannels: int(m, c, 'in_channels', 3),
    outChannels: int(m, c, 'out_channels', 3),
    latentChannels: int(m, c, 'latent_channels', 4),
    blockOutChannels,
    layersPerBlock: int(m, c, 'layers_per_block', 1),
    normNumGroups: int(m, c, 'norm_num_groups', 32),
    scalingFactor: num(m, c, 'scaling_factor', 0.18215),
    midBlockAttention: c.mid_block_add_attention !== false,
    useQuantConv: c.use_quant_conv !== false,
    usePostQuantConv: c.use_post_quant_conv !== false,
  };
}
