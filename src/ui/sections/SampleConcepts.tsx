/** "Try a sample concept": five photos of something the built-in model has never seen, with a token and class word. */
import { SAMPLE_CONCEPTS, type SampleConcept } from '../../world/sample-concepts';
import { samplePhotoFiles } from '../sample-photos';
import { updateDraft, useStudio } from '../store';

function trySample(concept: SampleConcept): void {
  updateDraft((d) => ({ photos: samplePhotoFiles(concept), options: { ...d.options, token: concept.token, classWord: concept.classWord, kind: 'object' } }));
}

export function SampleConcepts({ disabled }: { disabled: boolean }) {
  const photos = useStudio((s) => s.draft.photos.length);
  const blocked = disabled || photos > 0;
  return (
    <div className="card" data-testid="sample-concepts">
      <h2>Try a sample concept</h2>
      <p className="muted">
        No photos at hand? Each sample is five pictures of something the built-in model has never seen, with a token and class word filled in.
        {photos > 0 && ' Remove the photos above first, so none of yours are replaced.'}
      </p>
      <ul className="model-list">
        {SAMPLE_CONCEPTS.map((c) => (
          <li key={c.id}>
            <div>
              <strong>{c.title}</strong> <span className="muted">{c.token} · a kind of {c.classWord}</span>
              <p className="muted">{c.description}</p>
            </div>
            <button type="button" disabled={blocked} onClick={() => trySample(c)}>
              Try<span className="visually-hidden"> {c.title}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
