/**
 * Perfusion's C⁻¹ for a loaded model: the text encodings' covariance over the shipped prompts
 * (train/perfusion-covariance.ts), computed on the first Perfusion run or save and kept while the
 * model stays loaded (a Perfusion concept stores C⁻¹ i*, so generation never needs it).
 */
import type { StableDiffusionModel } from '../model/load';
import { ClipTokenizer } from '../model/tokenizer';
import { COVARIANCE_PROMPTS } from '../train/perfusion-covariance-prompts';
import { covarianceInverse, textCovariance } from '../train/perfusion-covariance';

export class CovarianceInverse {
  private value: Promise<Float32Array> | null = null;

  constructor(private readonly model: StableDiffusionModel) {}

  /** C⁻¹ [D × D] (computed once; a failed or cancelled computation is tried again next time). */
  get(signal?: AbortSignal): Promise<Float32Array> {
    if (!this.value) {
      const tokenizer = ClipTokenizer.fromFiles(this.model.tokenizerFiles);
      this.value = textCovariance(this.model, tokenizer, COVARIANCE_PROMPTS, signal).then(covarianceInverse);
      this.value.catch(() => (this.value = null));
    }
    return this.value;
  }
}
