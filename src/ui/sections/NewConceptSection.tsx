/** The New concept section: the photos, the form, and the training run's state. */
import { showSection, useStudio } from '../store';
import { ConceptForm } from './ConceptForm';
import { PhotoStrip } from './PhotoStrip';
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

      <PhotoStrip resolution={o.resolution} busy={busy} />

      {model.id === BUILTIN_MODEL_ID && <SampleConcepts disabled={busy} />}

      <ConceptForm options={o} ready={ready} running={running} busy={busy} size={size} />

      <TrainingState training={training} model={model} />
    </section>
  );
}
