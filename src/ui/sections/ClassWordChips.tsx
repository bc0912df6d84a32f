/**
 * New concept: the class word suggested from the photos (CLIP zero-shot, top 3) as chips that
 * fill "What it is", and a warning when the photos look like several subjects. With the feature
 * models not yet in the browser, it offers their download once; the person may ignore it all.
 */
import { useEffect } from 'react';
import { updateDraft, useStudio } from '../store';
import { cropsInOrder } from '../draft-crops';
import { declineSuggestions, offerAccepted, photosChanged, suggestClassWords, useSuggestion } from '../evaluations';

export function ClassWordChips({ disabled }: { disabled: boolean }) {
  const photos = useStudio((s) => s.draft.photos);
  const crops = useStudio((s) => s.draft.crops);
  const classWord = useStudio((s) => s.draft.options.classWord);
  const ready = useStudio((s) => s.engine.state === 'ready');
  const suggestion = useSuggestion((s) => s.suggestion);
  const inOrder = cropsInOrder(crops, photos);
  useEffect(() => {
    if (ready && !disabled) void photosChanged(photos, cropsInOrder(crops, photos));
  }, [ready, disabled, photos, crops]);
  if (disabled || photos.length === 0) return null;
  const choose = (word: string) => updateDraft((d) => ({ options: { ...d.options, classWord: word } }));
  switch (suggestion.state) {
    case 'offer':
      return (
        <div className="class-chips" data-testid="class-words">
          <span className="muted">Suggest what it is from the photos? It needs the feature models (asked before they download).</span>
          <button type="button" onClick={() => void offerAccepted(photos, inOrder)}>
            Suggest a class word
          </button>
          <button type="button" onClick={declineSuggestions}>
            No thanks
          </button>
        </div>
      );
    case 'checking':
    case 'suggesting':
      return (
        <p className="muted" data-testid="class-words">
          Looking at the photos…
        </p>
      );
    case 'asking':
      return (
        <div className="class-chips" data-testid="class-words">
          <span>{suggestion.question.question}</span>
          <button type="button" onClick={() => void suggestClassWords(photos, inOrder, true)}>
            Download and suggest
          </button>
          <button type="button" onClick={declineSuggestions}>
            No thanks
          </button>
        </div>
      );
    case 'done':
      return (
        <div data-testid="class-words">
          <div className="class-chips concept-chips" role="group" aria-label="Suggested class words">
            <span className="muted">Looks like:</span>
            {suggestion.suggestion.classes.slice(0, 3).map((c) => (
              <button key={c.word} type="button" aria-pressed={classWord === c.word} onClick={() => choose(c.word)}>
                {c.word}
              </button>
            ))}
          </div>
          {suggestion.suggestion.mixed && (
            <p className="warning" role="status" data-testid="mixed-photos">
              These photos look like several different subjects: a concept learns one subject best.
            </p>
          )}
        </div>
      );
    case 'failed':
      return (
        <p className="muted" data-testid="class-words">
          No class word suggested: {suggestion.error.message}
        </p>
      );
    default:
      return null;
  }
}
