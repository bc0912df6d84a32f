/** The New concept section: the photos, the form, and the training run's state. */
import { useState } from 'react';
import { admitPhotos } from '../admit-photos';
import { BlobImage } from '../BlobImage';
import { squarePhoto } from '../photos';
import { useDropZone } from '../useDropZone';
import { showSection, updateDraft, useStudio } from '../store';
import { ConceptForm } from './ConceptForm';
import { TrainingState } from './TrainingState';
import { useSizeVerdict } from '../SizeNote';
import { TRAINER_DEFAULTS } from '../../train/config';
import { SampleConcepts } from './SampleConcepts';
import { BUILTIN_MODEL_ID } from '../../model/sources/builtin';
import { useFocusOnEntering } from '../useFocusOnEntering';

export function NewConceptSection() {
  const model = useStudio((s) => s.model);
  const draft = useStudio((s) => s.draft);
  const training = useStudio((s) => s.training);
  const o = draft.options;
  const running = training.state === 'running';
  const busy = running || training.state === 'paused' || training.state === 'interrupted';
  const [refused, setRefused] = useState<string[]>([]);
  // Each photo is decoded as Train will decode it; what fails is listed, and nothing of it is kept.
  const addPhotos = async (files: File[]) => {
    if (busy) return; // a run keeps the photos it started with
    const decode = (file: File) => squarePhoto(file, o.resolution).then((bitmap) => bitmap.close());
    const { added, refused } = await admitPhotos(files, useStudio.getState().draft.photos.length, decode);
    if (added.length) updateDraft((d) => ({ photos: [...d.photos, ...added] }));
    setRefused(refused);
  };
  const drop = useDropZone((data) => void addPhotos(Array.from(data.files)));
  const ready = draft.photos.length > 0 && o.token.trim() !== '' && o.classWord.trim() !== '' && !busy;
  // with no model there is no form: a discarded run leaves focus on the way to one
  const goToModels = useFocusOnEntering<HTMLButtonElement>(training.state === 'idle');
  const size = useSizeVerdict({ width: o.resolution, height: o.resolution, rows: o.batchSize ?? TRAINER_DEFAULTS.batchSize, images: 1, purpose: 'training' });

  if (!model) {
    return (
      <section className="section" aria-labelledby="new-concept-title" data-testid="section-new-concept">
        <h1 id="new-concept-title">New concept</h1>
        <p className="lead">Teach the model a new word from 3–5 photos. Load a model first.</p>
        <button ref={goToModels} type="button" onClick={() => showSection('models')}>
          Go to Models
        </button>
        <TrainingState training={training} model={null} />
      </section>
    );
  }

  return (
    <section className="section" aria-labelledby="new-concept-title" data-testid="section-new-concept">
      <h1 id="new-concept-title">New concept</h1>
      <p className="lead">Teach the model ({model.card.title}) a new word from 3–5 photos. They stay on this device.</p>

      <div className={`card${drop.dropping ? ' dropping' : ''}`} {...drop.handlers}>
        <h2>Photos</h2>
        <input
          type="file"
          accept="image/*"
          multiple
          disabled={busy}
          aria-label="Add photos"
          onChange={(e) => {
            void addPhotos(Array.from(e.target.files ?? []));
            e.target.value = ''; // the same file may be picked again
          }}
        />
        <div className="thumbs" data-testid="photos">
          {draft.photos.map((file, i) => (
            <figure key={`${file.name}-${i}`}>
              <BlobImage blob={file} alt={file.name} />
              <button type="button" aria-label={`Remove ${file.name}`} disabled={busy} onClick={() => updateDraft((d) => ({ photos: d.photos.filter((_, j) => j !== i) }))}>
                ×
              </button>
            </figure>
          ))}
        </div>
        {draft.photos.length > 0 && draft.photos.length < 3 && <p className="muted">3–5 photos from different angles work best.</p>}
        {refused.length > 0 && (
          <div className="error" role="alert" data-testid="photo-refusals">
            <p>Not added:</p>
            <ul>
              {refused.map((message, i) => (
                <li key={i}>{message}</li>
              ))}
            </ul>
          </div>
        )}
      </div>

      {model.id === BUILTIN_MODEL_ID && <SampleConcepts disabled={busy} />}

      <ConceptForm options={o} ready={ready} running={running} busy={busy} size={size} />

      <TrainingState training={training} model={model} />
    </section>
  );
}
