/** Small safetensors files the e2e specs import: F32 tensors of one value each. */

/** A safetensors file of F32 tensors with these shapes, every value `value`. */
export function safetensors(shapes: Record<string, number[]>, value = 0.01): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const text = JSON.stringify(header);
  const json = Buffer.from(text.padEnd(Math.ceil(text.length / 8) * 8, ' '));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, Buffer.from(new Float32Array(offset / 4).fill(value).buffer)]);
}

/** A one-layer LoRA for the tiny model (F32 tensors of `value`), as a kohya safetensors file. */
export function tinyLora(value: number): Buffer {
  const prefix = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k';
  return safetensors({ [`${prefix}.lora_down.weight`]: [1, 32], [`${prefix}.lora_up.weight`]: [32, 1] }, value);
}
