/**
 * An SD1.5-shaped model for measurements: the real configs, synthetic packed f16 weights (made
 * up on first use), and the tokenizer and scheduler of `base` (any loaded SD 1.x model).
 */
import type { StableDiffusionModel } from '../model/load';
import { parseClipTextConfig, parseUNetConfig, parseVaeConfig } from '../model/config';
import { SD15_TEXT_ENCODER, SD15_UNET, SD15_VAE } from '../model/sd15-configs';
import { Weights } from '../model/weights';
import * as tf from '../gpu/tf';
import { flushGpu } from '../gpu/tf-backend';
import { clipTextEncoder } from '../model/clip';
import { unetForward } from '../model/unet';
import { vaeDecode, vaeEncode } from '../model/vae';

export function syntheticSd15(base: StableDiffusionModel): StableDiffusionModel {
  const [text, unet, vae] = [Weights.synthetic('text_encoder', 'f16', 2), Weights.synthetic('unet', 'f16', 1), Weights.synthetic('vae', 'f16', 3)];
  text.rowTable('embeddings.token_embedding.weight', [SD15_TEXT_ENCODER.vocab_size, SD15_TEXT_ENCODER.hidden_size]); // made before TI reads its shape
  return {
    ...base,
    source: 'synthetic:sd15',
    text: { config: parseClipTextConfig(SD15_TEXT_ENCODER), weights: text },
    unet: { config: parseUNetConfig(SD15_UNET), weights: unet },
    vae: { config: parseVaeConfig(SD15_VAE), weights: vae },
    get bytes() {
      return text.bytes + unet.bytes + vae.bytes;
    },
    dispose: () => [text, unet, vae].forEach((w) => w.dispose()),
  };
}

/**
 * Makes every synthetic weight of `model` with one small pass through each of its models, for
 * what reads weights before a forward does (a LoRA takes its layers' shapes).
 */
export async function makeSyntheticWeights(model: StableDiffusionModel): Promise<void> {
  tf.tidy(() => {
    const states = clipTextEncoder(model.text.weights, model.text.config, tf.zeros([1, 77], 'int32') as tf.Tensor2D).lastHiddenState;
    unetForward(model.unet.weights, model.unet.config, { sample: tf.zeros([1, 4, 8, 8]) as tf.Tensor4D, timesteps: [500], encoderHiddenStates: states });
    vaeEncode(model.vae.weights, model.vae.config, tf.zeros([1, 3, 8, 8]) as tf.Tensor4D);
    vaeDecode(model.vae.weights, model.vae.config, tf.zeros([1, 4, 1, 1]) as tf.Tensor4D);
  });
  await flushGpu();
}
