/**
 * The engine's training job: the trainer's loop (`Trainer.run`) with what only the engine knows
 * added: the studio's policy for what the request leaves out, the checkpoint store, the ETA and
 * GPU bytes in progress, and a lost device named as such. A finished run answers with its concept.
 */
import { errorMessage, StudioError } from '../common/errors';
import type { StableDiffusionModel } from '../model/load';
import { CancelledError } from '../model/pipeline';
import type { Checkpoint } from '../train/checkpoint';
import type { CheckpointStore } from '../train/checkpoint-store';
import { Trainer, type TrainingProgress } from '../train/trainer';
import { classPrompt } from '../train/class-images';
import { checkResumeModel } from '../train/resume-model';
import { conceptOfRun } from './run-concept';
import type { JobContext, TrainingReport, TrainRequest, TrainResult } from './protocol';
import { TrainingEta } from './training-eta';
import { trainerOptionProblems } from '../train/option-limits';
import { studioTrainerOptions, trainingCadence } from './training-policy';

/** What the job needs of the engine. */
export interface TrainingJobDeps {
  model: StableDiffusionModel;
  checkpoints: CheckpointStore;
  /** True when the page asked this run to pause (the ask is used up). */
  pauseRequested: () => boolean;
  /** GPU bytes in live buffers now. */
  gpuBytes: () => number;
  /** True once the model is gone with its device. */
  modelLost: () => boolean;
  /** Throws an InvalidRequest when the run's images are too large for the adapter. */
  refuseSize: (resolution: number, batchSize: number) => void;
  /** Perfusion: the model's C⁻¹ (perfusion-statistics.ts). */
  covarianceInverse: () => Promise<Float32Array>;
}

/** A done run's answer, from its last checkpoint. */
async function finished(checkpoint: Checkpoint, runId: string, loss: number, deps: TrainingJobDeps): Promise<TrainResult> {
  return { outcome: 'done', step: checkpoint.step, loss, concept: await conceptOfRun(checkpoint, runId, deps.model, deps.covarianceInverse) };
}

function startTrainer(request: TrainRequest, stored: Checkpoint | null, model: StableDiffusionModel, covarianceInverse?: Float32Array): Trainer {
  try {
    const rates = request.rates ?? {};
    const trainerDeps = covarianceInverse ? { covarianceInverse } : {};
    return stored ? Trainer.resume(model, stored, request.images, trainerDeps, rates) : Trainer.create(model, { ...studioTrainerOptions(request.options), ...rates }, request.images, trainerDeps);
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw new StudioError('InvalidRequest', errorMessage(error));
  }
}

/**
 * A run goes on only on the model it started on (ModelMismatch, before anything trains). A run
 * checkpointed before ids named the weights is matched by name, and says so in its first progress.
 */
function refuseOtherModel({ runId }: TrainRequest, stored: Checkpoint, model: StableDiffusionModel, ctx: JobContext): void {
  const loaded = { id: model.source, name: model.name };
  if (checkResumeModel(`Run '${runId}'`, { id: stored.model, name: stored.modelName }, loaded) === 'same-name') {
    ctx.progress({
      label: `Run '${runId}' was saved before the studio identified models by their weights: only its model's name (${model.name}) could be checked; it goes on as a run of ${loaded.id}.`,
      fraction: stored.step / stored.config.steps,
    });
  }
}

/** A new run's out-of-range numbers (steps 0 or 100000), in the sentences the page shows, before anything is read or made. */
function refuseOutOfRange({ options }: TrainRequest): void {
  const problems = trainerOptionProblems(options);
  if (problems.length) throw new StudioError('InvalidRequest', problems.join(' '), 'Change the setting and train again.');
}

/** DreamBooth's first phase, as progress says it: "Class images 3/50 (a dog)", and the rare word a run picked. */
function classImagesLabel(done: number, total: number, config: Trainer['config']): string {
  const rare = config.identifier === 'rare' ? `; identifier "${config.token}"` : '';
  return `Class images ${done}/${total} (${classPrompt(config.classWord)}${rare})`;
}

export async function runTrainingJob(request: TrainRequest, ctx: JobContext, deps: TrainingJobDeps): Promise<TrainResult> {
  const { runId } = request;
  const stored = request.resume ? await deps.checkpoints.get(runId) : null;
  if (request.resume && !stored) throw new StudioError('InvalidRequest', `There is no checkpoint of training run '${runId}' to resume.`);
  if (stored && stored.step >= stored.config.steps) return finished(stored, runId, stored.smoothedLoss ?? NaN, deps);
  if (stored) refuseOtherModel(request, stored, deps.model, ctx);
  else refuseOutOfRange(request);
  const { resolution, batchSize = 1, method } = stored?.config ?? request.options;
  // DreamBooth's steps run the photos and as many class images together
  deps.refuseSize(resolution, method === 'dreambooth' ? 2 * batchSize : batchSize);
  if (method === 'perfusion') ctx.progress({ label: 'Text statistics for Perfusion (once per model)', fraction: 0 });
  const trainer = startTrainer(request, stored, deps.model, method === 'perfusion' ? await deps.covarianceInverse() : undefined);
  try {
    const { checkpointEvery, preview } = trainingCadence(request, trainer.config.steps);
    let last = stored;
    let report: TrainingReport | null = null;
    const eta = new TrainingEta({ steps: trainer.config.steps, previewEvery: preview?.every ?? null, previewSamplingSteps: preview?.steps ?? 0 }, performance.now());
    const toReport = (p: TrainingProgress): TrainingReport => ({
      ...p,
      etaSeconds: eta.secondsLeft(),
      gpuBytes: deps.gpuBytes(),
      checkpointStep: last?.step ?? null,
    });
    const outcome = await trainer.run({
      signal: ctx.signal,
      shouldPause: deps.pauseRequested,
      onClassImages: (done, total) => ctx.progress({ label: classImagesLabel(done, total, trainer.config), fraction: done / total }),
      onProgress: (p) => {
        eta.stepDone(p.step, performance.now());
        report = toReport(p);
        ctx.progress({ label: `Step ${p.step}/${p.steps}, loss ${p.loss.toFixed(4)}`, fraction: p.step / p.steps, training: report });
      },
      checkpoints: {
        every: checkpointEvery,
        save: async (checkpoint) => {
          await deps.checkpoints.put(runId, checkpoint);
          last = checkpoint;
        },
      },
      previews: preview
        ? {
            every: preview.every,
            options: preview,
            show: (sample) => {
              eta.previewDone(sample.step, performance.now());
              if (report) report = { ...report, etaSeconds: eta.secondsLeft() };
              ctx.progress({ label: `Preview at step ${sample.step}`, fraction: sample.step / trainer.config.steps, training: report ?? undefined, sample });
            },
          }
        : undefined,
    });
    if (outcome === 'aborted') throw new CancelledError();
    const { loss } = trainer.progress();
    return outcome === 'paused' ? { outcome, step: trainer.stepsDone, loss } : await finished(last!, runId, loss, deps);
  } catch (error) {
    if (deps.modelLost() && !ctx.signal.aborted) {
      throw new StudioError('DeviceLost', `The GPU was lost at step ${trainer.stepsDone}; training stopped.`, 'Reconnect the GPU, load the model and resume: the run goes on from its last checkpoint.');
    }
    throw error;
  } finally {
    trainer.dispose();
  }
}
