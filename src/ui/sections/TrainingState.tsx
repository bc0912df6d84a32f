/** Where the current training run stands: progress, paused, done, failed or interrupted, and what can be done next. */
import type { ReactNode, Ref } from 'react';
import { trainsLora, trainsVectors, type TrainerOptions } from '../../train/config';
import { downloadConcept, downloadRun } from '../downloads';
import { formatBytes } from '../format';
import { LossChart } from '../LossChart';
import { putConceptInPrompt } from '../library';
import { evaluateTrained } from '../evaluations';
import { ProgressBar } from '../Progress';
import type { TrainingStatus } from '../store';
import { changeSettings, discardRun, startNewConcept } from '../training-actions';
import { hasCheckpoint } from '../restored-run';
import { useFocusOnEntering } from '../useFocusOnEntering';
import { DivergedRun } from './DivergedRun';
import { ResumeOrDiscard, type LoadedModel } from './ResumeOrDiscard';
import { TrainingPreviews } from './TrainingPreviews';

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Buttons that save a concept (or a paused run's concept so far) as files other tools read. */
function SaveButtons({ method, save }: { method: TrainerOptions['method']; save: (what: Parameters<typeof downloadConcept>[1]) => void }) {
  return (
    <div className="row">
      {method === 'pplus' && (
        <>
          <button type="button" onClick={() => save({ kind: 'layer-embeddings' })}>
            Save P+ embedding
          </button>
          <button type="button" onClick={() => save({ kind: 'layer-embeddings', layout: 'kohya-xti' })}>
            Save P+ (kohya XTI)
          </button>
        </>
      )}
      {trainsVectors(method) && method !== 'pplus' && (
        <button type="button" onClick={() => save({ kind: 'embedding', layout: 'single-key' })}>
          Save embedding
        </button>
      )}
      {trainsLora(method) && (
        <>
          <button type="button" onClick={() => save({ kind: 'lora', layout: 'kohya', dtype: 'F16' })}>
            Save LoRA (kohya / A1111 / ComfyUI)
          </button>
          <button type="button" onClick={() => save({ kind: 'lora', layout: 'peft', dtype: 'F16' })}>
            Save LoRA (diffusers)
          </button>
        </>
      )}
    </div>
  );
}

/** The card a run's state is told in, announced to screen readers as it changes; it takes focus when its state does. */
function StatusCard({ children, cardRef }: { children: ReactNode; cardRef: Ref<HTMLDivElement> }) {
  return (
    <div className="card training-state" data-testid="training" role="status" ref={cardRef} tabIndex={-1}>
      {children}
    </div>
  );
}

/** ", loss 0.1234" where the loss is known (a run paused by an older studio kept none). */
function lossOf(result: { loss: number }): string {
  return Number.isFinite(result.loss) ? `, loss ${result.loss.toFixed(4)}` : '';
}

/**
 * The run's card. Focus moves to it whenever the state changes (Train, Pause, Resume and the end of
 * a run replace the buttons pressed); back to the form when there is none (`ConceptForm`).
 */
export function TrainingState({ training, model }: { training: TrainingStatus; model: LoadedModel }) {
  const cardRef = useFocusOnEntering<HTMLDivElement>(training.state !== 'idle', training.state);
  return <TrainingCard training={training} model={model} cardRef={cardRef} />;
}

function TrainingCard({ training, model, cardRef }: { training: TrainingStatus; model: LoadedModel; cardRef: Ref<HTMLDivElement> }) {
  switch (training.state) {
    case 'idle':
      return null;
    case 'running': {
      const t = training.progress?.training;
      return (
        <div className="card training-state" data-testid="training" ref={cardRef} tabIndex={-1} role="group" aria-label={`Training ${training.run.options.token}`}>
          <ProgressBar progress={training.progress} label="Training" />
          {t && (
            <p className="muted" data-testid="training-stats">
              loss {t.loss.toFixed(4)} · smoothed {t.smoothedLoss.toFixed(4)} · learning rate {[t.lr.ti, t.lr.lora, t.lr.textEncoder].filter((r) => r !== undefined).map((r) => r!.toExponential(1)).join(' / ')} ·{' '}
              {t.stepsPerSecond.toFixed(2)} steps/s
              {t.etaSeconds !== null && ` · ${formatSeconds(t.etaSeconds)} left`} · GPU {formatBytes(t.gpuBytes)}
            </p>
          )}
          <LossChart method={training.run.options.method} />
          <TrainingPreviews />
        </div>
      );
    }
    case 'interrupted':
      if (!hasCheckpoint(training.run)) {
        return (
          <StatusCard cardRef={cardRef}>
            <p>
              Training {training.run.options.token} stopped before its first checkpoint, so there is nothing to resume. Its photos and settings are back in the form.
            </p>
            <div className="row">
              <button type="button" onClick={() => void discardRun(training.run)}>
                Discard
              </button>
            </div>
          </StatusCard>
        );
      }
      return (
        <StatusCard cardRef={cardRef}>
          <p>
            Training {training.run.options.token} stopped at about step {training.run.step} of {training.run.steps} before it finished. Its photos and last checkpoint are
            kept.
          </p>
          <ResumeOrDiscard run={training.run} model={model} />
        </StatusCard>
      );
    case 'paused':
      return (
        <StatusCard cardRef={cardRef}>
          <p>
            Paused at step {training.result.step} of {training.run.steps}
            {lossOf(training.result)}. A checkpoint is saved: resume any time, even after closing the tab.
          </p>
          <ResumeOrDiscard run={training.run} model={model} />
          <SaveButtons method={training.run.options.method} save={(what) => void downloadRun(training.run.runId, what)} />
          <LossChart method={training.run.options.method} />
          <TrainingPreviews />
        </StatusCard>
      );
    case 'done':
      return (
        <StatusCard cardRef={cardRef}>
          <p>
            Trained at step {training.result.step}, loss {training.result.loss.toFixed(4)}. {training.run.options.token} is in your library.
          </p>
          <div className="row">
            <button type="button" onClick={() => putConceptInPrompt(training.run.options.token)}>
              Use in a prompt
            </button>
            <button type="button" onClick={startNewConcept}>
              New concept
            </button>
            <button type="button" onClick={() => evaluateTrained(training.conceptId, training.run.options.classWord)}>
              Evaluate this concept
            </button>
          </div>
          <SaveButtons method={training.run.options.method} save={(what) => void downloadConcept(training.conceptId, what)} />
          <LossChart method={training.run.options.method} />
          <TrainingPreviews />
        </StatusCard>
      );
    case 'failed':
      if (training.error.name === 'TrainingDiverged' && training.run) return <DivergedRun run={training.run} error={training.error} model={model} cardRef={cardRef} />;
      return (
        <div className="card error training-state" role="alert" data-testid="training" ref={cardRef} tabIndex={-1}>
          <p>{training.error.message}</p>
          {training.error.hint && <p className="muted">{training.error.hint}</p>}
          {training.run && hasCheckpoint(training.run) ? (
            <ResumeOrDiscard run={training.run} model={model} />
          ) : (
            // it failed before its first checkpoint: nothing to resume, the form is where to go on
            <div className="row">
              <button type="button" onClick={() => void changeSettings(training.run)}>
                Change settings
              </button>
            </div>
          )}
        </div>
      );
  }
}
