import { decode, encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { a1111Sampler, encodePngWithParameters, formatParameters, parseParameters, readPngParameters, studioSampler, type GenerationParameters } from './png-parameters';

const SETTINGS: GenerationParameters = {
  prompt: 'a photo of <my-dog>, oil painting',
  negativePrompt: 'blurry',
  steps: 20,
  sampler: 'DDIM',
  guidanceScale: 5,
  seed: 7,
  width: 64,
  height: 64,
  model: 'shapes-sd',
  loras: [{ name: 'my-dog-lora-kohya', strength: 0.8 }],
  extra: { Note: 'a, b: c' },
};

/** CRC-32 (ISO 3309, as PNG uses), bit by bit: independent of the module's table. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** Every chunk of a PNG: type, body, and whether its CRC is right. */
function chunks(png: Uint8Array): { type: string; body: Uint8Array; crcOk: boolean }[] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + length);
    out.push({ type, body, crcOk: view.getUint32(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return out;
}

function image(width: number, height: number) {
  const data = new Uint8ClampedArray(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
  return { width, height, data };
}

describe('A1111 parameters text', () => {
  it('formats in A1111 layout: prompt with LoRA tags, negative prompt, one settings line', () => {
    expect(formatParameters(SETTINGS)).toBe(
      'a photo of <my-dog>, oil painting <lora:my-dog-lora-kohya:0.8>\nNegative prompt: blurry\n' +
        'Steps: 20, Sampler: DDIM, CFG scale: 5, Seed: 7, Size: 64x64, Model: shapes-sd, Note: "a, b: c"',
    );
    expect(formatParameters({ ...SETTINGS, negativePrompt: '', loras: [], extra: {}, model: undefined, guidanceScale: 7.5 })).toBe(
      'a photo of <my-dog>, oil painting\nSteps: 20, Sampler: DDIM, CFG scale: 7.5, Seed: 7, Size: 64x64',
    );
  });

  it('parses what it formats back to the same settings', () => {
    expect(parseParameters(formatParameters(SETTINGS))).toEqual(SETTINGS);
    const multiLine = { ...SETTINGS, prompt: 'line one\nline two', negativePrompt: 'bad\nworse', loras: [], extra: {} };
    expect(parseParameters(formatParameters(multiLine))).toEqual(multiLine);
  });

  it('reads A1111-written text: multi-line prompts, inline LoRA tags, quoted values, keys it does not know', () => {
    const text = [
      'masterpiece, a cat',
      'sitting on a <lora:catStyle:0.7> windowsill, <lora:detail>',
      'Negative prompt: blurry, lowres',
      'bad hands',
      'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 965400086, Size: 512x768, Model hash: 45dee52b, ' +
        'Model: v1-5-pruned-emaonly, Lora hashes: "catStyle: 1a2b3c4d5e6f, detail: 0f0f0f0f0f0f", Note: "say \\"hi\\", ok", Version: v1.10.1',
    ].join('\n');
    expect(parseParameters(text)).toEqual({
      prompt: 'masterpiece, a cat\nsitting on a windowsill',
      negativePrompt: 'blurry, lowres\nbad hands',
      steps: 28,
      sampler: 'DPM++ 2M',
      guidanceScale: 7,
      seed: 965400086,
      width: 512,
      height: 768,
      model: 'v1-5-pruned-emaonly',
      loras: [
        { name: 'catStyle', strength: 0.7 },
        { name: 'detail', strength: 1 },
      ],
      extra: { 'Schedule type': 'Karras', 'Model hash': '45dee52b', 'Lora hashes': 'catStyle: 1a2b3c4d5e6f, detail: 0f0f0f0f0f0f', Note: 'say "hi", ok', Version: 'v1.10.1' },
    });
  });

  it("a text encoder's own strength: <lora:name:te:unet> in A1111's positional order, and te=/unet= by name", () => {
    const both = { ...SETTINGS, loras: [{ name: 'my-dog-lora-kohya', strength: 0.8, textEncoderStrength: 0.4 }] };
    expect(formatParameters(both)).toMatch(/<lora:my-dog-lora-kohya:0.4:0.8>/);
    expect(parseParameters(formatParameters(both))).toEqual(both);
    expect(parseParameters('a <lora:a:0.5> <lora:b:te=0.2:unet=0.9> <lora:c:unet=0.3>\nSteps: 2, Seed: 1, Size: 8x8').loras).toEqual([
      { name: 'a', strength: 0.5 },
      { name: 'b', strength: 0.9, textEncoderStrength: 0.2 },
      { name: 'c', strength: 0.3, textEncoderStrength: 1 },
    ]);
  });

  it('takes a last line with fewer than three settings as prompt, as A1111 does', () => {
    const p = parseParameters('a cat\nwith: a hat');
    expect(p).toMatchObject({ prompt: 'a cat\nwith: a hat', negativePrompt: '', extra: {} });
    expect(p.steps).toBeNaN();
  });

  it('names samplers as A1111 does', () => {
    expect([a1111Sampler('ddim'), a1111Sampler('euler')]).toEqual(['DDIM', 'Euler']);
    expect([studioSampler('DDIM'), studioSampler('Euler'), studioSampler('Euler a')]).toEqual(['ddim', 'euler', null]);
  });
});

describe('PNG with parameters', () => {
  it('carries the text in a tEXt chunk: keyword parameters, NUL, the text, a valid CRC', () => {
    const text = formatParameters(SETTINGS);
    const png = encodePngWithParameters(image(5, 3), text);
    const all = chunks(png);
    expect(all.every((c) => c.crcOk)).toBe(true);
    expect(all[0].type).toBe('IHDR');
    expect(all.at(-1)!.type).toBe('IEND');
    const texts = all.filter((c) => c.type === 'tEXt');
    expect(texts).toHaveLength(1);
    const body = texts[0].body;
    const keyword = new TextEncoder().encode('parameters');
    expect([...body.subarray(0, keyword.length)]).toEqual([...keyword]);
    expect(body[keyword.length]).toBe(0);
    expect(new TextDecoder('latin1').decode(body.subarray(keyword.length + 1))).toBe(text);
    expect(all.findIndex((c) => c.type === 'tEXt')).toBeLessThan(all.findIndex((c) => c.type === 'IDAT'));

    expect(readPngParameters(png)).toBe(text);
    const decoded = decode(png);
    expect(decoded).toMatchObject({ width: 5, height: 3, channels: 4, depth: 8, text: { parameters: text } });
    expect([...decoded.data]).toEqual([...image(5, 3).data]);
  });

  it('puts text beyond Latin-1 in an iTXt chunk (UTF-8), as PIL does for A1111', () => {
    const text = formatParameters({ ...SETTINGS, prompt: 'un chat 猫 🐱' });
    const png = encodePngWithParameters(image(2, 2), text);
    const all = chunks(png);
    expect(all.every((c) => c.crcOk)).toBe(true);
    expect(all.map((c) => c.type)).toEqual(['IHDR', 'iTXt', 'IDAT', 'IEND']);
    expect(readPngParameters(png)).toBe(text);
    expect(decode(png)).toMatchObject({ width: 2, height: 2 });
  });

  it('reads null from a PNG without parameters', () => {
    expect(readPngParameters(encode({ width: 1, height: 1, data: new Uint8Array(4), channels: 4, depth: 8 }))).toBeNull();
    expect(readPngParameters(encode({ width: 1, height: 1, data: new Uint8Array(4), channels: 4, depth: 8, text: { Comment: 'x' } }))).toBeNull();
  });
});
