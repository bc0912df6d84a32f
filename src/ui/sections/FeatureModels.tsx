/**
 * Models: the feature models Evaluate and the class-word suggestions use (CLIP and DINOv2,
 * through transformers.js): where they come from, their sizes, whether they are in this browser,
 * and Remove. The hub is asked about them only on Check sizes or Evaluate, never by opening Models.
 */
import { useEffect } from 'react';
import { formatBytes } from '../format';
import { checkFeatureModels, refreshCachedFeatureModels, removeFeatureModels, updateFeatureSource, useEvaluations } from '../evaluations';

const ROLE = { clip: 'CLIP (CLIP-I, CLIP-T, class words)', dino: 'DINOv2 (DINO)' } as const;

export function FeatureModels({ ready }: { ready: boolean }) {
  const statuses = useEvaluations((s) => s.statuses);
  const check = useEvaluations((s) => s.check);
  const source = useEvaluations((s) => s.source);
  useEffect(() => {
    if (ready) void refreshCachedFeatureModels();
  }, [ready, source]);
  const cached = statuses?.some((m) => m.cached) ?? false;
  return (
    <div className="card" data-testid="feature-models">
      <h2>Feature models (for Evaluate)</h2>
      <p className="muted">
        Evaluate scores a concept with a CLIP and a DINOv2 model, run in this tab on onnxruntime-web. They download from the hub the first time you evaluate (you are asked first) and stay
        in this browser.
      </p>
      {statuses === null ? (
        <p className="muted">Not downloaded, or not checked this visit: the hub is asked for their sizes only when you press Check sizes or Evaluate.</p>
      ) : (
        <ul className="model-list">
          {statuses.map((m) => (
            <li key={m.role} data-testid={`feature-model-${m.role}`}>
              <div>
                <strong>{m.repo}</strong> <span className="muted">— {ROLE[m.role]}</span>
                <p className="muted">
                  {formatBytes(m.bytes)} {m.cached ? 'in this browser' : 'to download'}
                </p>
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="row">
        <button type="button" disabled={!ready || check.state === 'checking'} onClick={() => void checkFeatureModels()}>
          Check sizes
        </button>
        {cached && (
          <button type="button" disabled={!ready} onClick={() => void removeFeatureModels()}>
            Remove feature models
          </button>
        )}
      </div>
      {check.state === 'failed' && (
        <div role="alert" className="error">
          <p>{check.error.message}</p>
          {check.error.hint && <p className="muted">{check.error.hint}</p>}
        </div>
      )}
      <details>
        <summary>Where they come from</summary>
        <div className="row">
          <label>
            Hub address (or a mirror)
            <input name="feature-endpoint" value={source.endpoint} onChange={(e) => updateFeatureSource({ endpoint: e.target.value })} />
          </label>
          <label>
            CLIP model id
            <input name="feature-clip" value={source.clip} onChange={(e) => updateFeatureSource({ clip: e.target.value })} />
          </label>
          <label>
            DINOv2 model id
            <input name="feature-dino" value={source.dino} onChange={(e) => updateFeatureSource({ dino: e.target.value })} />
          </label>
        </div>
      </details>
    </div>
  );
}
