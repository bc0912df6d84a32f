/**
 * Refusals of the interop formats: a StudioError named `ImportRefused` with a machine-readable
 * `reason` and a message that says what the file is and what to do.
 */
import { StudioError } from '../../common/errors';
export type FormatRefusal =
  | 'empty' // zero bytes
  | 'pickle' // a PyTorch file the studio does not read (.ckpt/.pth, a pickled LoRA or model)
  | 'unsafe-pickle' // a pickle that names a global outside the allow-list (never run)
  | 'not-safetensors' // bytes the safetensors reader rejects
  | 'unknown-format' // valid safetensors, but neither an embedding nor a UNet LoRA
  | 'dim-mismatch' // embedding for a text encoder of another width
  | 'unknown-module' // LoRA layer on a module the studio's UNet does not have or cannot adapt
  | 'shape-mismatch' // LoRA layer whose shapes do not fit the UNet config
  | 'unsupported-layers' // layers of a kind the studio cannot apply (LoHa, LoKr, DoRA, …)
  | 'partial' // some layers are unsupported: imported only when the user agrees (`allowPartial`)
  | 'invalid'; // inconsistent content (missing half of a pair, bad alpha, …)

export class FormatError extends StudioError {
  constructor(
    readonly reason: FormatRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(reason === 'partial' ? 'ImportPartial' : 'ImportRefused', message, undefined, options);
  }
}

/** The model family a text width belongs to, for messages; null for a width no family has. */
export function textWidthFamily(dim: number): string | null {
  if (dim === 768) return 'SD 1.x';
  if (dim === 1024) return 'SD 2.x';
  if (dim === 1280) return 'SDXL (OpenCLIP bigG)';
  return null;
}

/** "this model's text encoder is 32 wide", naming the model and its family where known. */
export function modelTextWidth(dim: number, modelName?: string): string {
  const family = textWidthFamily(dim);
  return `${modelName ?? "this model"}'s text encoder is ${dim} wide${family ? ` (${family})` : ''}`;
}

/** Refuses values holding NaN or ±Infinity: "`where` holds NaN at index 3; `rule`." */
export function refuseNonFinite(values: Float32Array, where: string, rule: string): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new FormatError('invalid', `${where} holds ${values[bad]} at index ${bad}; ${rule}.`);
}
