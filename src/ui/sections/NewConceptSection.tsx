import { useEffect, useMemo } from 'react';
import type { TrainerOptions } from '../../engine/protocol';
import { ProgressBar } from '../Progress';
import { useDropZone } from '../useDropZone';
import { cancelTraining, downloadRun, pauseTraining, showSection, train, updateDraft, useStudio } from '../store';

const METHODS: [TrainerOptions['method'], string][] = [
  ['both', 'Token + LoRA (best identity)'],
  ['ti', 'Textual Inversion (a few KB)'],
  ['lora', 'LoRA only'],
];

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
  const set = <K extends keyof TrainerOptions>(key: K, value: TrainerOptions[K]) => updateDraft((d) => ({ options: { ...d.options, [key]: value } }));
  const addPhotos = (files: Iterable<File>) => {
    const images = [...files].filter((f) => f.type.startsWith('image/'));
    if (images.length) updateDraft((d) => ({ photos: [...d.photos, ...images] }));
  };
  const drop = useDropZone((data) => addPhotos(Array.from(data.files)));
  const ready = draft.photos.length > 0 && o.token.trim() !== '' && o.classWord.trim() !== '' && !running;

  if (!model) {
    return (
      <section className="section" aria-labelledby="new-concept-title" data-testid="section-new-concept">
        <h1 id="new-concept-title">New concept</h1>
        <p className="lead">Teach the model a new word from 3–5 photos. Load a model first.</p>
        <button type="button" onClick={() => showSection('models')}>
          Go to Models
        </button>
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
              <button type="button" aria-label={`Remove ${file.name}`} disabled={running} onClick={() => updateDraft((d) => ({ photos: d.photos.filter((_, j) => j !== i) }))}>
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
            <select name="kind" value={o.kind ?? 'object'} onChange={(e) => set('kind', e.target.value as TrainerOptions['kind'])}>
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
            <input name="steps" type="number" min={1} max={10000} value={o.steps} onChange={(e) => set('steps', Number(e.target.value))} />
          </label>
          <label>
            Resolution
            <input name="resolution" type="number" min={64} max={1024} step={64} value={o.resolution} onChange={(e) => set('resolution', Number(e.target.value))} />
          </label>
        </div>
        <div className="row">
          <button type="button" disabled={!ready} onClick={() => void train(false)}>
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
          {training.state === 'paused' && (
            <button type="button" onClick={() => void train(true)}>
              Resume
            </button>
          )}
        </div>
      </div>

      {training.state === 'running' && (
        <div className="card" data-testid="training">
          <ProgressBar progress={training.progress} label="Training" />
          {training.progress?.training && (
            <p className="muted">
              smoothed loss {training.progress.training.smoothedLoss.toFixed(4)} · {training.progress.training.stepsPerSecond.toFixed(2)} steps/s
            </p>
          )}
        </div>
      )}
      {(training.state === 'paused' || training.state === 'done') && (
        <div className="card" data-testid="training" role="status">
          <p>
            {training.state === 'done' ? 'Trained' : 'Paused'} at step {training.result.step}, loss {training.result.loss.toFixed(4)}.
            {training.state === 'paused' && ' A checkpoint is saved: resume any time.'}
          </p>
          <div className="row">
            {draft.options.method !== 'lora' && (
              <button type="button" onClick={() => void downloadRun(training.runId, { kind: 'embedding', layout: 'single-key' })}>
                Save embedding
              </button>
            )}
            {draft.options.method !== 'ti' && (
              <>
                <button type="button" onClick={() => void downloadRun(training.runId, { kind: 'lora', layout: 'kohya', dtype: 'F16' })}>
                  Save LoRA (kohya / A1111 / ComfyUI)
                </button>
                <button type="button" onClick={() => void downloadRun(training.runId, { kind: 'lora', layout: 'peft', dtype: 'F16' })}>
                  Save LoRA (diffusers)
                </button>
              </>
            )}
          </div>
        </div>
      )}
      {training.state === 'failed' && (
        <div className="card error" role="alert">
          <p>{training.error.message}</p>
          {training.error.hint && <p className="muted">{training.error.hint}</p>}
        </div>
      )}
    </section>
  );
}
