import { useEffect, useMemo } from 'react';
import { TRAINER_DEFAULTS as D, TRAINER_LIMITS, type LoraTarget, type TrainerOptions } from '../../train/config';
import type { TrainingRun } from '../../library/run-store';
import { formatBytes } from '../format';
import { cancelTraining, discardRun, downloadConcept, downloadRun, pauseTraining, startNewConcept, train, putConceptInPrompt } from '../library';
import { ProgressBar } from '../Progress';
import { RgbaCanvas } from '../RgbaCanvas';
import { useDropZone } from '../useDropZone';
import { showSection, updateDraft, useStudio, type TrainingStatus } from '../store';

const METHODS: [TrainerOptions['method'], string][] = [
  ['both', 'Token + LoRA (best identity)'],
  ['ti', 'Textual Inversion (a few KB)'],
  ['lora', 'LoRA only'],
];

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Buttons that save a concept (or a paused run's concept so far) as files other tools read. */
function SaveButtons({ method, save }: { method: TrainerOptions['method']; save: (what: Parameters<typeof downloadConcept>[1]) => void }) {
  return (
    <div className="row">
      {method !== 'lora' && (
        <button type="button" onClick={() => save({ kind: 'embedding', layout: 'single-key' })}>
          Save embedding
        </button>
      )}
      {method !== 'ti' && (
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

/** A stopped run goes on from its last checkpoint (on the model it trains), or is forgotten. */
function ResumeOrDiscard({ run, modelId }: { run: TrainingRun; modelId: string | null }) {
  return (
    <div className="row">
      {run.modelId === modelId ? (
        <button type="button" onClick={() => void train(run)}>
          Resume
        </button>
      ) : (
        <p className="muted">Load {run.modelId} in Models to resume.</p>
      )}
      <button type="button" onClick={() => void discardRun(run.runId)}>
        Discard
      </button>
    </div>
  );
}

function TrainingState({ training, modelId }: { training: TrainingStatus; modelId: string | null }) {
  const samples = useStudio((s) => s.samples);
  const strip = samples.length > 0 && (
    <div className="images" data-testid="training-previews">
      {samples.map((sample) => (
        <figure key={sample.step}>
          <RgbaCanvas image={sample.image} label={`Preview at step ${sample.step}`} scale={Math.max(1, Math.floor(128 / sample.image.width))} />
          <figcaption>step {sample.step}</figcaption>
        </figure>
      ))}
    </div>
  );
  switch (training.state) {
    case 'idle':
      return null;
    case 'running': {
      const t = training.progress?.training;
      return (
        <div className="card" data-testid="training">
          <ProgressBar progress={training.progress} label="Training" />
          {t && (
            <p className="muted" data-testid="training-stats">
              loss {t.loss.toFixed(4)} · smoothed {t.smoothedLoss.toFixed(4)} · learning rate {[t.lr.ti, t.lr.lora].filter((r) => r !== undefined).map((r) => r!.toExponential(1)).join(' / ')} ·{' '}
              {t.stepsPerSecond.toFixed(2)} steps/s
              {t.etaSeconds !== null && ` · ${formatSeconds(t.etaSeconds)} left`} · GPU {formatBytes(t.gpuBytes)}
            </p>
          )}
          {strip}
        </div>
      );
    }
    case 'interrupted':
      return (
        <div className="card" data-testid="training" role="status">
          <p>
            Training {training.run.options.token} stopped at about step {training.run.step} of {training.run.steps} before it finished. Its photos and last checkpoint are
            kept.
          </p>
          <ResumeOrDiscard run={training.run} modelId={modelId} />
        </div>
      );
    case 'paused':
      return (
        <div className="card" data-testid="training" role="status">
          <p>
            Paused at step {training.result.step}, loss {training.result.loss.toFixed(4)}. A checkpoint is saved: resume any time, even after closing the tab.
          </p>
          <ResumeOrDiscard run={training.run} modelId={modelId} />
          <SaveButtons method={training.run.options.method} save={(what) => void downloadRun(training.run.runId, what)} />
          {strip}
        </div>
      );
    case 'done':
      return (
        <div className="card" data-testid="training" role="status">
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
          </div>
          <SaveButtons method={training.run.options.method} save={(what) => void downloadConcept(training.conceptId, what)} />
          {strip}
        </div>
      );
    case 'failed':
      return (
        <div className="card error" role="alert">
          <p>{training.error.message}</p>
          {training.error.hint && <p className="muted">{training.error.hint}</p>}
          {training.run && <ResumeOrDiscard run={training.run} modelId={modelId} />}
        </div>
      );
  }
}

const TARGETS: [LoraTarget, string][] = [
  ['to_k', 'keys'],
  ['to_v', 'values'],
  ['to_q', 'queries'],
  ['to_out.0', 'output'],
];

type SetOption = <K extends keyof TrainerOptions>(key: K, value: TrainerOptions[K]) => void;

/** The settings most runs leave alone; defaults as diffusers' and AUTOMATIC1111's trainers use them. */
function AdvancedSettings({ options: o, set }: { options: TrainerOptions; set: SetOption }) {
  const targets = o.targets ?? D.targets;
  const number = (key: keyof TrainerOptions, label: string, fallback: number, props: { min?: number; max?: number; step?: number } = {}) => (
    <label>
      {label}
      <input name={key} type="number" {...props} value={(o[key] as number | undefined) ?? fallback} onChange={(e) => set(key, Number(e.target.value) as never)} />
    </label>
  );
  return (
    <details>
      <summary>Advanced settings</summary>
      <div className="row">
        {o.method !== 'lora' && number('numVectors', 'Vectors per token', D.numVectors, { min: 1, max: TRAINER_LIMITS.maxVectors })}
        {o.method !== 'lora' && number('tiLearningRate', 'Token learning rate', D.tiLearningRate, { min: 0, step: 1e-4 })}
        {o.method !== 'ti' && number('rank', 'LoRA rank', D.rank, { min: 1, max: TRAINER_LIMITS.maxRank })}
        {o.method !== 'ti' && number('alpha', 'LoRA alpha', o.rank ?? D.rank, { min: 0.5, step: 0.5 })}
        {o.method !== 'ti' && number('loraLearningRate', 'LoRA learning rate', D.loraLearningRate, { min: 0, step: 1e-5 })}
        {number('warmupSteps', 'Warmup steps', D.warmupSteps, { min: 0 })}
        {number('seed', 'Seed', D.seed, { min: 0 })}
      </div>
      {o.method !== 'ti' && (
        <fieldset className="row">
          <legend>LoRA on cross-attention</legend>
          {TARGETS.map(([target, label]) => (
            <label key={target} className="check">
              <input
                type="checkbox"
                checked={targets.includes(target)}
                onChange={(e) => set('targets', e.target.checked ? [...targets, target] : targets.filter((t) => t !== target))}
              />
              {label} ({target})
            </label>
          ))}
        </fieldset>
      )}
    </details>
  );
}

function Thumbnail({ file }: { file: File }) {
  const url = useMemo(() => URL.createObjectURL(file), [file]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return <img src={url} alt={file.name} className="thumb" />;
}

export function NewConceptSection() {
  const model = useStudio((s) => s.model);
  const draft = useStudio((s) => s.draft);
  const training = useStudio((s) => s.training);
  const o = draft.options;
  const running = training.state === 'running';
  const busy = running || training.state === 'paused' || training.state === 'interrupted';
  const set = <K extends keyof TrainerOptions>(key: K, value: TrainerOptions[K]) => updateDraft((d) => ({ options: { ...d.options, [key]: value } }));
  const addPhotos = (files: Iterable<File>) => {
    const images = [...files].filter((f) => f.type.startsWith('image/'));
    if (images.length) updateDraft((d) => ({ photos: [...d.photos, ...images] }));
  };
  const drop = useDropZone((data) => addPhotos(Array.from(data.files)));
  const ready = draft.photos.length > 0 && o.token.trim() !== '' && o.classWord.trim() !== '' && !busy;

  if (!model) {
    return (
      <section className="section" aria-labelledby="new-concept-title" data-testid="section-new-concept">
        <h1 id="new-concept-title">New concept</h1>
        <p className="lead">Teach the model a new word from 3–5 photos. Load a model first.</p>
        <button type="button" onClick={() => showSection('models')}>
          Go to Models
        </button>
        <TrainingState training={training} modelId={null} />
      </section>
    );
  }

  return (
    <section className="section" aria-labelledby="new-concept-title" data-testid="section-new-concept">
      <h1 id="new-concept-title">New concept</h1>
      <p className="lead">Teach {model.id} a new word from 3–5 photos. They stay on this device.</p>

      <div className={`card${drop.dropping ? ' dropping' : ''}`} {...drop.handlers}>
        <h2>Photos</h2>
        <input type="file" accept="image/*" multiple aria-label="Add photos" onChange={(e) => addPhotos(Array.from(e.target.files ?? []))} />
        <div className="thumbs" data-testid="photos">
          {draft.photos.map((file, i) => (
            <figure key={`${file.name}-${i}`}>
              <Thumbnail file={file} />
              <button type="button" aria-label={`Remove ${file.name}`} disabled={busy} onClick={() => updateDraft((d) => ({ photos: d.photos.filter((_, j) => j !== i) }))}>
                ×
              </button>
            </figure>
          ))}
        </div>
        {draft.photos.length > 0 && draft.photos.length < 3 && <p className="muted">3–5 photos from different angles work best.</p>}
      </div>

      <div className="card generate-form">
        <div className="row">
          <label>
            Token
            <input name="token" value={o.token} onChange={(e) => set('token', e.target.value.trim())} />
          </label>
          <label>
            What it is
            <input name="classWord" placeholder="dog, teddy bear, watercolor" value={o.classWord} onChange={(e) => set('classWord', e.target.value)} />
          </label>
          <label>
            Kind
            <select name="kind" value={o.kind ?? D.kind} onChange={(e) => set('kind', e.target.value as TrainerOptions['kind'])}>
              <option value="object">Object or pet</option>
              <option value="style">Style</option>
            </select>
          </label>
        </div>
        <div className="row">
          <label>
            Method
            <select name="method" value={o.method} onChange={(e) => set('method', e.target.value as TrainerOptions['method'])}>
              {METHODS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Steps
            <input name="steps" type="number" min={1} max={TRAINER_LIMITS.maxSteps} value={o.steps} onChange={(e) => set('steps', Number(e.target.value))} />
          </label>
          <label>
            Resolution
            <input name="resolution" type="number" min={64} max={1024} step={64} value={o.resolution} onChange={(e) => set('resolution', Number(e.target.value))} />
          </label>
        </div>
        <AdvancedSettings options={o} set={set} />
        <div className="row">
          <button type="button" disabled={!ready} onClick={() => void train()}>
            Train
          </button>
          {running && (
            <>
              <button type="button" onClick={() => void pauseTraining()}>
                Pause
              </button>
              <button type="button" onClick={cancelTraining}>
                Cancel
              </button>
            </>
          )}
        </div>
      </div>

      <TrainingState training={training} modelId={model.id} />
    </section>
  );
}
