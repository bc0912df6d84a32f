import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import { loadStableDiffusion, type StableDiffusionModel } from './load';
import { CancelledError, GENERATION_POOLED_FREE_BYTES, textToImage } from './pipeline';
import { pooledFreeBytesLimit } from '../gpu/memory';
import { nodeFolderSource } from './sources/node-folder';
import { ClipTokenizer } from './tokenizer';
import { unetForward, unetForwardByBlocks } from './unet';
import { TINY_SD } from '../test/model-fixtures';

let model: StableDiffusionModel;
let tokenizer: ClipTokenizer;
beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
});
afterAll(() => model.dispose());

const request = { prompt: 'a red circle', steps: 2, width: 32, height: 32, seed: 1 };

describe('the UNet layer by layer', () => {
  it('gives the one-go forward’s output, names every layer in order, and keeps only its output', async () => {
    const { weights, config } = model.unet;
    const sample = tf.tensor4d(randomNormal(2 * 4 * 4 * 4, 1), [2, 4, 4, 4]);
    const context = tf.tensor3d(randomNormal(2 * 77 * config.crossAttentionDim, 2), [2, 77, config.crossAttentionDim]);
    const input = { sample, timesteps: [500, 500], encoderHiddenStates: context };
    const expected = unetForward(weights, config, input);
    const before = tf.memory().numTensors;
    const blocks: string[] = [];
    const out = await unetForwardByBlocks(weights, config, input, (block) => {
      blocks.push(block);
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(await out.data())).toEqual(Array.from(await expected.data()));
    expect(blocks[0]).toMatch(/^down_blocks\.0\.(resnets|attentions)\.0$/);
    expect(blocks).toContain('mid_block');
    expect(blocks).toContain('down_blocks.0.downsamplers.0');
    expect(blocks.at(-1)).toMatch(/^up_blocks\.\d+\.(resnets|attentions)\.\d+$/);
    expect(new Set(blocks).size).toBe(blocks.length);
    tf.dispose([sample, context, expected, out]);
  });
});

describe('cancel within a step', () => {
  it('a cancel raised after the 3rd UNet layer of step 1 stops generation before the next layer, and frees every tensor', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const blocks: string[] = [];
    const steps: number[] = [];
    const run = textToImage(model, tokenizer, request, {
      signal: controller.signal,
      onStep: ({ step }) => steps.push(step),
      onBlock: (block) => {
        blocks.push(block);
        if (blocks.length === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(blocks).toHaveLength(3);
    expect(steps).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a cancel raised in step 1’s last UNet layer: no layer of step 2 runs', async () => {
    const layers: string[] = [];
    await textToImage(model, tokenizer, { ...request, steps: 1 }, { onBlock: (b) => layers.push(b) });
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let seen = 0;
    const run = textToImage(model, tokenizer, request, {
      signal: controller.signal,
      onBlock: () => {
        seen += 1;
        if (seen === layers.length) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toBe(layers.length);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a cancel raised when the last step ends: nothing is decoded, every tensor freed', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = textToImage(model, tokenizer, request, {
      signal: controller.signal,
      onStep: ({ step, total }) => {
        if (step === total) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without a cancel every layer of every step runs, with a capped buffer pool that is restored after', async () => {
    let seen = 0;
    const limits: number[] = [];
    const result = await textToImage(model, tokenizer, request, { onBlock: () => (seen += 1), onStep: () => void limits.push(pooledFreeBytesLimit()) });
    expect(result.images).toHaveLength(1);
    expect(limits).toEqual([GENERATION_POOLED_FREE_BYTES, GENERATION_POOLED_FREE_BYTES]);
    expect(pooledFreeBytesLimit()).toBe(Infinity); // tfjs's own pooling again after the image
    const perStep = seen / request.steps;
    expect(Number.isInteger(perStep) && perStep > 5).toBe(true);
  });
});
