import { useState, type FormEvent } from 'react';
import type { SerializedError } from '../../common/errors';
import { errorMessage, StudioError } from '../../common/errors';
import { HUB_CONNECT_SOURCES } from '../../common/content-security-policy';
import { filesFromEntries } from '../../model/sources/local';
import { DEFAULT_HUB_URL } from '../../model/sources/model-id';
import { RECOMMENDED_MODELS } from '../../model/sources/recommended';
import { formatBytes } from '../format';
import { ProgressBar } from '../Progress';
import { useDropZone } from '../useDropZone';
import { BUILTIN_LABEL, cancelModelLoad, deleteCachedModel, loadModel, unloadBlocked, unloadModel, updateHubForm, useStudio } from '../store';
import { BUILTIN_MODEL_CARD, BUILTIN_MODEL_ID } from '../../model/sources/builtin';
import { FeatureModels } from './FeatureModels';
import { useEvaluations } from '../evaluations';
import { cachedFeatureBytes } from '../feature-download';

async function droppedModel(entries: FileSystemEntry[]): Promise<void> {
  const label = entries[0]?.name ?? 'folder';
  try {
    const files = await filesFromEntries(entries);
    await loadModel({ kind: 'local', files: [...files.values()], paths: [...files.keys()] }, label);
  } catch (e) {
    useStudio.setState({ modelLoad: { state: 'failed', label, error: new StudioError('ModelLoadFailed', errorMessage(e)).toJSON() } });
  }
}

export function ModelsSection() {
  const model = useStudio((s) => s.model);
  const load = useStudio((s) => s.modelLoad);
  const cached = useStudio((s) => s.cachedModels);
  const lastFolder = useStudio((s) => s.lastFolder);
  const ready = useStudio((s) => s.engine.state === 'ready');
  const { repo, revision, endpoint } = useStudio((s) => s.hubForm);
  const blocked = useStudio(unloadBlocked);
  // feature models are kept in the same cache: once listed there, counted in its total and not a second time
  const featureListed = cached.filter((m) => m.feature).reduce((sum, m) => sum + m.bytes, 0);
  const featureKnown = useEvaluations((s) => cachedFeatureBytes(s.statuses ?? []));
  const featureBytes = featureListed > 0 ? featureListed : featureKnown;
  const storedBytes = cached.reduce((sum, m) => sum + m.bytes, 0) + (featureListed > 0 ? 0 : featureKnown);
  const [unloadError, setUnloadError] = useState<SerializedError | null>(null);
  const drop = useDropZone((data) => {
    if (busy) return;
    const entries = Array.from(data.items)
      .map((item) => item.webkitGetAsEntry())
      .filter((entry): entry is FileSystemEntry => entry !== null);
    void droppedModel(entries);
  });
  const busy = load.state === 'loading' || !ready;

  const loadHub = (r: string, rev: string, from = endpoint) => void loadModel({ kind: 'hub', repo: r, revision: rev, endpoint: from }, r);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (repo.trim()) loadHub(repo.trim(), revision.trim() || 'main');
  };

  return (
    <section className="section" aria-labelledby="models-title" data-testid="section-models">
      <h1 id="models-title">Models</h1>
      <p className="lead">Stable Diffusion 1.x-family models in the diffusers layout, run on your GPU.</p>

      <div className="card" data-testid="current-model">
        <h2>Loaded</h2>
        {model ? (
          <>
            <p>
              <strong>{model.card.title}</strong> <span className="muted">({model.id}) — {model.summary}, {formatBytes(model.bytes)} on the GPU, {model.imageSize}px images</span>
            </p>
            {model.card.about && <p>{model.card.about}</p>}
            <div className="row">
              <button type="button" disabled={blocked !== null} aria-describedby={blocked ? 'unload-blocked' : undefined} onClick={() => void unloadModel().then(setUnloadError)}>
                Unload {model.card.title}
              </button>
              {blocked && (
                <span id="unload-blocked" className="muted">
                  {blocked}
                </span>
              )}
            </div>
            {unloadError && (
              <div role="alert" className="error">
                <p>{unloadError.message}</p>
                <p className="muted">{unloadError.hint}</p>
              </div>
            )}
          </>
        ) : lastFolder ? (
          <p className="muted">Last time you used the folder “{lastFolder}”: pick it again below (the browser does not keep access to it), or load another model.</p>
        ) : (
          <p className="muted">No model loaded: pick one below.</p>
        )}
        {load.state === 'loading' && (
          <div className="row">
            <ProgressBar progress={load.progress} label={`Loading ${load.label}`} />
            <button type="button" onClick={cancelModelLoad}>
              Cancel
            </button>
          </div>
        )}
        {load.state === 'failed' && (
          <div role="alert" className="error">
            <p>
              Could not load {load.label}: {load.error.message}
            </p>
            {load.error.hint && <p className="muted">{load.error.hint}</p>}
          </div>
        )}
      </div>

      <div className="card" data-testid="builtin-model">
        <h2>Built-in demo</h2>
        <ul className="model-list">
          <li>
            <div>
              <strong>{BUILTIN_MODEL_CARD.title}</strong> <span className="muted">— ships with the studio, works offline</span>
              <p className="muted">{BUILTIN_MODEL_CARD.about}</p>
            </div>
            <button type="button" disabled={busy || model?.id === BUILTIN_MODEL_ID} onClick={() => void loadModel({ kind: 'builtin' }, BUILTIN_LABEL)}>
              {model?.id === BUILTIN_MODEL_ID ? 'Loaded' : 'Load'}
            </button>
          </li>
        </ul>
      </div>

      <div className="card">
        <h2>From the Hugging Face hub</h2>
        <form onSubmit={submit} className="row" aria-label="Load from the hub">
          <label>
            Repository
            <input name="repo" placeholder="owner/name" value={repo} onChange={(e) => updateHubForm({ repo: e.target.value })} />
          </label>
          <label>
            Revision
            <input name="revision" value={revision} onChange={(e) => updateHubForm({ revision: e.target.value })} size={8} />
          </label>
          <button type="submit" disabled={busy || !repo.trim()}>
            Load
          </button>
        </form>
        <details>
          <summary>Hub endpoint</summary>
          <label>
            Endpoint (a mirror with the same URL scheme)
            <input name="endpoint" value={endpoint} onChange={(e) => updateHubForm({ endpoint: e.target.value })} />
          </label>
          <p className="muted">The page may reach {HUB_CONNECT_SOURCES.join(', ')} and nothing else (its Content-Security-Policy): another endpoint needs the studio served with a policy that allows it.</p>
        </details>
        <ul className="model-list">
          {RECOMMENDED_MODELS.map((m) => (
            <li key={m.repo}>
              <div>
                <strong>{m.repo}</strong> <span className="muted">~{formatBytes(m.approxBytes)}</span>
                <p className="muted">{m.description}</p>
              </div>
              <button type="button" disabled={busy} onClick={() => loadHub(m.repo, m.revision)}>
                Load
              </button>
            </li>
          ))}
        </ul>
      </div>

      <div className={`card${drop.dropping ? ' dropping' : ''}`} data-testid="model-drop" {...drop.handlers}>
        <h2>From a folder on this device</h2>
        <p className="muted">Pick or drop a diffusers model folder (with model_index.json). Nothing is uploaded anywhere.</p>
        <input
          type="file"
          aria-label="Model folder"
          disabled={busy}
          // @ts-expect-error: non-standard but supported by every WebGPU browser
          webkitdirectory=""
          multiple
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            if (files.length) void loadModel({ kind: 'local', files }, files[0].webkitRelativePath.split('/')[0] || 'folder');
          }}
        />
      </div>

      <div className="card" data-testid="cached-models">
        <h2>Kept in this browser</h2>
        {(cached.length > 0 || featureBytes > 0) && (
          <p data-testid="models-storage">
            {formatBytes(storedBytes)} in all
            {featureBytes > 0 && <span className="muted"> (feature models {formatBytes(featureBytes)})</span>}.
          </p>
        )}
        {cached.length === 0 ? (
          <p className="muted">Nothing yet: models you load from the hub stay here for offline use.</p>
        ) : (
          <ul className="model-list">
            {cached.map((m) => (
              <li key={`${m.endpoint} ${m.repo}@${m.revision}`}>
                <div>
                  <strong>{m.repo}</strong> <span className="muted">@{m.revision} — {formatBytes(m.bytes)} in {m.files} files</span>
                  {m.feature && <p className="muted">A feature model for Evaluate (Feature models below), not a model to draw with.</p>}
                  {m.endpoint === null ? (
                    <p className="muted">Kept by an older version of the studio, from an endpoint it did not record: it is not used; delete it to free the space.</p>
                  ) : (
                    m.endpoint !== DEFAULT_HUB_URL && <p className="muted">from {m.endpoint}</p>
                  )}
                </div>
                <span className="row">
                  {m.endpoint !== null && !m.feature && (
                    <button type="button" disabled={busy} onClick={() => loadHub(m.repo, m.revision, m.endpoint!)}>
                      Load
                    </button>
                  )}
                  <button type="button" onClick={() => void deleteCachedModel(m)}>
                    Delete
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>

      <FeatureModels ready={ready} />
    </section>
  );
}
