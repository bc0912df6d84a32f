/**
 * Training checkpoints: everything a `Trainer` needs to go on exactly where it stopped (config,
 * step, the RNG's state, the trainable tensors, the AdamW moments), as plain structured-clone-able
 * data (kept by `./checkpoint-store`). Every record read back goes through `restoreCheckpoint`,
 * which upgrades older versions and fails loudly on what it cannot read.
 */
import { StudioError } from '../common/errors';
import { readTrainerConfig, TRAINER_DEFAULTS, type TrainerConfig } from './config';

export const CHECKPOINT_VERSION = 1;

/** A tensor as data: row-major values and shape. */
export interface StoredTensor {
  /** Trainable key: `ti.vectors` or a LoRA key `{unet,text_encoder}.<prefix>.lora.{down,up}.weight`. */
  key: string;
  shape: number[];
  data: Float32Array;
}

/** DreamBooth's class images as stored beside a checkpoint (class-images.ts): posterior means and stds, [n, 4, h, w] each. */
export interface StoredClassLatents {
  mean: StoredTensor;
  std: StoredTensor;
}

export interface Checkpoint {
  version: typeof CHECKPOINT_VERSION;
  /** The model's id (`StableDiffusionModel.source`) the concept was trained on. */
  model: string;
  /** Its name; absent from checkpoints taken before ids named the weights (`model` is old-style there). */
  modelName?: string;
  config: TrainerConfig;
  /** Optimizer steps taken. */
  step: number;
  /** State of the trainer's seeded generator after `step` steps. */
  rngState: number;
  /** EMA of the loss, for progress display (null before the first step). */
  smoothedLoss: number | null;
  /** Trainable tensors, in the optimizer's variable order. */
  tensors: StoredTensor[];
  /** AdamW moments [n, 2] (m, v interleaved), one per entry of `tensors`, same keys. */
  moments: StoredTensor[];
  /** Date.now() when taken. */
  created: number;
  /** DreamBooth: the class images drawn so far, VAE-encoded (class-images.ts); absent before the first. */
  classLatents?: StoredClassLatents;
  /** Perfusion: the running inputs i* and i_super ([dim] each, perfusion-concept.ts); absent before the first step. */
  perfusion?: StoredEncodings;
}

/** Perfusion's running encodings as stored. */
export interface StoredEncodings {
  iStar: Float32Array;
  iSuper: Float32Array;
}

/** What `list()` shows without reading tensors. */
export interface CheckpointSummary {
  id: string;
  model: string;
  method: TrainerConfig['method'];
  token: string;
  step: number;
  steps: number;
  created: number;
  bytes: number;
}

export function checkpointBytes(c: Checkpoint): number {
  const classLatents = c.classLatents ? [c.classLatents.mean, c.classLatents.std] : [];
  return [...c.tensors, ...c.moments, ...classLatents].reduce((sum, t) => sum + t.data.byteLength, 0) + (c.perfusion ? c.perfusion.iStar.byteLength + c.perfusion.iSuper.byteLength : 0);
}

export function summarize(id: string, c: Checkpoint): CheckpointSummary {
  return { id, model: c.model, method: c.config.method, token: c.config.token, step: c.step, steps: c.config.steps, created: c.created, bytes: checkpointBytes(c) };
}

// Versioned restore

type Raw = Record<string, unknown>;

function unreadable(why: string): StudioError {
  return new StudioError('CheckpointUnreadable', `This training checkpoint cannot be read: ${why}.`);
}

function readTensors(raw: unknown, field: string): StoredTensor[] {
  if (!Array.isArray(raw)) throw unreadable(`${field} is not a list`);
  return raw.map((t: Raw, i) => {
    const shape = t?.shape;
    if (typeof t?.key !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw unreadable(`${field}[${i}] has no key or shape`);
    }
    const data = t.data instanceof Float32Array ? t.data : Array.isArray(t.data) ? Float32Array.from(t.data as number[]) : null;
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (data === null || data.length !== size) throw unreadable(`${field}[${i}] ('${t.key}') holds ${data?.length ?? 'no'} values for shape [${shape}]`);
    return { key: t.key, shape: [...(shape as number[])], data };
  });
}

/** DreamBooth's stored class latents: means and stds of the same [n, 4, h, w], or none. */
function readClassLatents(raw: unknown): StoredClassLatents | undefined {
  if (raw === undefined) return undefined;
  const r = raw as Raw;
  const [mean, std] = readTensors([r?.mean, r?.std], 'classLatents');
  if (mean.shape.length !== 4 || mean.shape.join() !== std.shape.join()) throw unreadable(`classLatents: means [${mean.shape}] and stds [${std.shape}] are not the same [n, 4, h, w]`);
  return { mean, std };
}

/** Perfusion's stored encodings: two finite vectors of one width, or none. */
function readEncodings(raw: unknown): StoredEncodings | undefined {
  if (raw === undefined) return undefined;
  const r = raw as Raw;
  const vector = (v: unknown) => (v instanceof Float32Array ? v : Array.isArray(v) ? Float32Array.from(v as number[]) : null);
  const [iStar, iSuper] = [vector(r?.iStar), vector(r?.iSuper)];
  if (!iStar || !iSuper || iStar.length === 0 || iStar.length !== iSuper.length || ![...iStar, ...iSuper].every(Number.isFinite)) {
    throw unreadable("Perfusion's running encodings are not two finite vectors of one width");
  }
  return { iStar, iSuper };
}

/**
 * Settings version 1 gained after its first checkpoints, as those were trained: no text-encoder
 * LoRA (its rate then half the LoRA's, the resolver's default), no gradient clipping; the
 * DreamBooth settings at their defaults (no run before them was a DreamBooth one).
 */
function withLaterSettings(config: Raw): Raw {
  const rate = typeof config.loraLearningRate === 'number' ? { textEncoderLearningRate: config.loraLearningRate / 2 } : {};
  const d = TRAINER_DEFAULTS;
  const dreambooth = { classImages: d.classImages, priorLossWeight: d.priorLossWeight, identifier: d.identifier, classImageSteps: d.classImageSteps };
  return { textEncoderLora: false, ...rate, maxGradNorm: null, ...dreambooth, ...config };
}

/**
 * A checkpoint from anything read back from storage. Version 1 is the first format; when the
 * format changes, older versions are upgraded here, one `case` each, so stored training keeps loading.
 */
export function restoreCheckpoint(raw: unknown): Checkpoint {
  if (typeof raw !== 'object' || raw === null) throw unreadable('it is not an object');
  const r = raw as Raw;
  switch (r.version) {
    case 1: {
      if (typeof r.config !== 'object' || r.config === null) throw unreadable('config is missing');
      let config: TrainerConfig;
      try {
        config = readTrainerConfig(withLaterSettings(r.config as Raw));
      } catch (error) {
        throw unreadable((error as Error).message.replace(/\.$/, ''));
      }
      const { step, rngState } = r;
      if (!Number.isInteger(step) || (step as number) < 0) throw unreadable(`step ${String(step)} is not a count`);
      if (!Number.isInteger(rngState)) throw unreadable('the random generator state is missing');
      const tensors = readTensors(r.tensors, 'tensors');
      const moments = readTensors(r.moments, 'moments');
      if (moments.length !== tensors.length || moments.some((m, i) => m.key !== tensors[i].key)) throw unreadable('moments do not match the tensors');
      const classLatents = readClassLatents(r.classLatents);
      const perfusion = readEncodings(r.perfusion);
      return {
        version: 1,
        model: typeof r.model === 'string' ? r.model : '',
        ...(typeof r.modelName === 'string' && { modelName: r.modelName }),
        config,
        step: step as number,
        rngState: rngState as number,
        smoothedLoss: typeof r.smoothedLoss === 'number' ? r.smoothedLoss : null,
        tensors,
        moments,
        created: typeof r.created === 'number' ? r.created : 0,
        ...(classLatents && { classLatents }),
        ...(perfusion && { perfusion }),
      };
    }
    default:
      throw unreadable(`unknown version ${JSON.stringify(r.version)} (made by a newer studio?)`);
  }
}
