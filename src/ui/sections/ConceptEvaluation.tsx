/**
 * A library card's evaluation: Evaluate (asking first when the feature models must download),
 * its progress and Cancel, then the three scores beside the class-word baseline with the change
 * from last time (and the shapes analyzer's, where the evaluation has them), the one-line
 * reading and this visit's evaluation images.
 */
import { useEffect, useState } from 'react';
import type { ConceptSummary } from '../../library/concept-record';
import type { EvaluationSummary, WorldEvaluation } from '../../library/evaluation';
import { useEvaluationHistory, type EvaluationHistory } from '../concept-evaluations';
import { ProgressBar } from '../Progress';
import { useFocusOnEntering } from '../useFocusOnEntering';
import { RgbaCanvas } from '../RgbaCanvas';
import { cancelEvaluation, confirmDownload, evaluateConcept, useEvaluations } from '../evaluations';
import { formatChange, formatScore, scoreRows, worldRows } from '../evaluation-view';

function Scores({ token, latest, history }: { token: string; latest: EvaluationSummary; history: EvaluationHistory }) {
  // the stored history, once read, of this very evaluation
  const full = history.latest?.evaluatedAt === latest.evaluatedAt ? history.latest : null;
  const previous = full ? history.previous : null;
  const rows = scoreRows(latest, previous);
  return (
    <>
      <table className="scores" data-testid="evaluation-scores">
        <caption>
          Scores of {token} <span className="muted">({new Date(latest.evaluatedAt).toLocaleString()})</span>
        </caption>
        <thead>
          <tr>
            <th scope="col">Score</th>
            <th scope="col">{token}</th>
            <th scope="col">Class word</th>
            {previous && <th scope="col">Change since {new Date(previous.evaluatedAt).toLocaleDateString()}</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`score-${r.key}`}>
              <th scope="row">
                {r.label} <span className="muted">{r.means}</span>
              </th>
              <td>{formatScore(r.value)}</td>
              <td className="muted">{formatScore(r.baseline)}</td>
              {previous && <td>{r.change === null ? '' : formatChange(r.change)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {full?.world && <WorldScores token={token} world={full.world} />}
      <p data-testid="evaluation-reading">{latest.reading}</p>
      {full && (
        <p className="muted">
          {full.settings.prompts.length} prompts × {full.settings.seeds.length} seeds, {full.settings.steps} steps at {full.settings.size}px on {full.settings.model}; feature models{' '}
          {full.settings.featureModels.join(', ')}; {(full.durationMs / 1000).toFixed(1)} s.
        </p>
      )}
    </>
  );
}

/** The shapes analyzer's scores (built-in model, sample concept), each beside the class word's. */
function WorldScores({ token, world }: { token: string; world: WorldEvaluation }) {
  return (
    <table className="scores" data-testid="evaluation-world">
      <caption>
        Shapes analyzer <span className="muted">(the {world.sample} sample's photos; fidelity and edit prompts at 64 px)</span>
      </caption>
      <thead>
        <tr>
          <th scope="col">Score</th>
          <th scope="col">{token}</th>
          <th scope="col">Class word</th>
        </tr>
      </thead>
      <tbody>
        {worldRows(world).map((r) => (
          <tr key={r.key} data-testid={`world-${r.key}`}>
            <th scope="row">{r.label}</th>
            <td>{r.value}</td>
            <td className="muted">{r.baseline}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ConceptEvaluation({ concept, blocked }: { concept: ConceptSummary; blocked: string | null }) {
  const latest = concept.evaluation ?? null;
  const job = useEvaluations((s) => s.jobs[concept.id]);
  const images = useEvaluations((s) => s.images[concept.id]);
  const [classWord, setClassWord] = useState(concept.classWord);
  const [photos, setPhotos] = useState<File[]>([]);
  const [steps, setSteps] = useState('');
  const [size, setSize] = useState('');
  const [seeds, setSeeds] = useState('');
  const ownPhotos = concept.photoCount > 0;
  const missing = !classWord.trim() ? 'Say what it is (the class word) to compare with.' : !ownPhotos && photos.length === 0 ? 'Pick photos of the subject to compare with.' : null;
  const input = { classWord, photos: ownPhotos ? null : photos, ...(Number(steps) >= 1 && { steps: Math.round(Number(steps)) }), ...(Number(size) >= 8 && { size: Math.round(Number(size) / 8) * 8 }), ...(Number(seeds) >= 1 && { seeds: Array.from({ length: Math.min(8, Math.round(Number(seeds))) }, (_, i) => i + 1) }) };
  const busy = job !== undefined && job.state !== 'failed';
  const reason = blocked ?? missing;
  const id = `evaluate-${concept.id}`;
  const download = useFocusOnEntering<HTMLButtonElement>(job?.state === 'asking');
  // open with scores to show, and when an evaluation starts (from the done card too); the person may close it
  const [open, setOpen] = useState(latest !== null);
  const started = job !== undefined;
  useEffect(() => {
    if (started) setOpen(true);
  }, [started]);
  const history = useEvaluationHistory(concept, open);
  return (
    <details className="evaluation" data-testid="evaluation" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Evaluation{latest && ` — ${latest.reading}`}</summary>
      {latest && <Scores token={concept.token} latest={latest} history={history} />}
      <div className="row">
        <label>
          Class word
          <input value={classWord} disabled={busy} placeholder="dog, teddy bear" onChange={(e) => setClassWord(e.target.value)} aria-label={`Class word to compare ${concept.token} with`} />
        </label>
        {!ownPhotos && (
          <label>
            Photos to compare with
            <input type="file" accept="image/*" multiple disabled={busy} aria-label={`Photos to compare ${concept.token} with`} onChange={(e) => setPhotos(Array.from(e.target.files ?? []))} />
          </label>
        )}
        <label>
          Steps
          <input type="number" min={1} max={100} value={steps} placeholder="default" disabled={busy} onChange={(e) => setSteps(e.target.value)} aria-label={`Evaluation steps for ${concept.token}`} />
        </label>
        <label>
          Size
          <input type="number" min={8} max={1024} step={8} value={size} placeholder="model's" disabled={busy} onChange={(e) => setSize(e.target.value)} aria-label={`Evaluation image size for ${concept.token}`} />
        </label>
        <label>
          Seeds
          <input type="number" min={1} max={8} value={seeds} placeholder="2" disabled={busy} onChange={(e) => setSeeds(e.target.value)} aria-label={`Seeds per prompt for ${concept.token}`} />
        </label>
        {!busy && (
          <button type="button" disabled={reason !== null} aria-describedby={reason ? id : undefined} onClick={() => void evaluateConcept(concept.id, input)}>
            {latest ? 'Evaluate again' : 'Evaluate'}
          </button>
        )}
        {reason && !busy && (
          <span id={id} className="muted">
            {reason}
          </span>
        )}
      </div>
      {job?.state === 'checking' && <p className="muted">Looking for the feature models…</p>}
      {job?.state === 'asking' && (
        <div className="card" role="group" aria-labelledby={`${id}-question`} data-testid="download-question">
          <p id={`${id}-question`}>
            <strong>{job.question.question}</strong> The scores need them once; they stay in this browser (Models lists them, and removes them).
          </p>
          <ul>
            {job.question.models.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
          <div className="row">
            <button ref={download} type="button" onClick={() => void confirmDownload(concept.id)}>
              Download and evaluate
            </button>
            <button type="button" onClick={() => cancelEvaluation(concept.id)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {job?.state === 'running' && (
        <div className="row">
          <ProgressBar progress={job.progress} label={`Evaluating ${concept.token}`} />
          <button type="button" onClick={() => cancelEvaluation(concept.id)}>
            Cancel evaluation
          </button>
        </div>
      )}
      {job?.state === 'failed' && (
        <div role="alert" className="error">
          <p>Could not evaluate {concept.token}: {job.error.message}</p>
          {job.error.hint && <p className="muted">{job.error.hint}</p>}
        </div>
      )}
      {images && images.length > 0 && (
        <div className="evaluation-images" data-testid="evaluation-images">
          {images.map((image, i) => (
            <figure key={i}>
              <RgbaCanvas image={image.image} label={`${image.baseline ? 'Baseline' : 'Evaluation'} image: ${image.prompt}, seed ${image.seed}`} scale={Math.max(1, Math.floor(96 / image.image.width))} />
              <figcaption className="muted">
                {image.baseline ? 'class word' : concept.token}
                {image.world && ' · shapes'}
              </figcaption>
            </figure>
          ))}
        </div>
      )}
    </details>
  );
}
