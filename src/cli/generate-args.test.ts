import { describe, expect, it } from 'vitest';
import { loraArg } from './generate';

describe('studio generate --lora', () => {
  it("reads FILE, FILE:strength and FILE:te:unet (A1111's order), a drive letter's colon included", () => {
    expect(loraArg('a.safetensors')).toEqual({ file: 'a.safetensors', strength: 1 });
    expect(loraArg('a.safetensors:0.8')).toEqual({ file: 'a.safetensors', strength: 0.8 });
    expect(loraArg('a.safetensors:0.25:1.5')).toEqual({ file: 'a.safetensors', strength: 1.5, textEncoderStrength: 0.25 });
    expect(loraArg('C:\\loras\\a.safetensors:-.5')).toEqual({ file: 'C:\\loras\\a.safetensors', strength: -0.5 });
    expect(loraArg('C:\\loras\\a.safetensors')).toEqual({ file: 'C:\\loras\\a.safetensors', strength: 1 });
  });
});
