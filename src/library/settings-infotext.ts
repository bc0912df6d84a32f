/**
 * A generated image's settings as AUTOMATIC1111's infotext (the PNG `parameters` chunk): the
 * prompt as written (embeddings are named by their tokens), each LoRA concept as a
 * `<lora:name:strength>` tag naming its kohya file, the model by name.
 */
import type { GenerationSettings } from './generation-settings';
import { kohyaLoraName } from './concept-file-names';
import { a1111Sampler, encodePngWithParameters, formatParameters, type PngPixels } from './png-parameters';
import { trainsLora } from '../train/config';

export function infotextOfSettings(s: GenerationSettings): string {
  return formatParameters({
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    steps: s.steps,
    sampler: a1111Sampler(s.sampler),
    guidanceScale: s.guidanceScale,
    seed: s.seed,
    width: s.width,
    height: s.height,
    model: s.modelName,
    loras: s.concepts
      .filter((c) => trainsLora(c.method))
      .map((c) => ({ name: kohyaLoraName(c.token), strength: c.strength, ...(c.textEncoderStrength !== undefined && { textEncoderStrength: c.textEncoderStrength }) })),
  });
}

/** The image as a PNG that carries its settings. */
export function pngWithSettings(image: PngPixels, settings: GenerationSettings): Uint8Array {
  return encodePngWithParameters(image, infotextOfSettings(settings));
}
