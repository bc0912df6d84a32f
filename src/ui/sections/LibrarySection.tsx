import { useState } from 'react';
import { BlobImage } from '../BlobImage';
import { ConceptGateBias, ConceptStrength } from '../ConceptStrength';
import { LossCurve } from '../LossCurve';
import type { ConceptSummary } from '../../library/concept-record';
import { formatBytes } from '../format';
import type { ModelInfo } from '../../engine/protocol';
import { namesModel, nameOfId } from '../../model/sources/model-id';
import { downloadConcept } from '../downloads';
import { errorMessage } from '../../common/errors';
import { conceptStore, deleteConcept, importConceptFiles, leaveOutPartial, putConceptInPrompt, updateConcept } from '../library';
import { useDropZone } from '../useDropZone';
import { showSection, useStudio } from '../store';
import { ConceptEvaluation } from './ConceptEvaluation';
import { SelectField } from '../SelectField';
import { LIBRARY_ORDERS, orderConcepts } from '../evaluation-view';
import { setLibraryOrder, useEvaluations } from '../evaluations';
import { methodLabel, summaryMethod } from '../concept-method-label';

/** The word A1111 and ComfyUI give an embedding file: its name without extension. */
function fileWord(token: string): string {
  return token.replace(/[<>]/g, '').replace(/[^\w.-]+/g, '_') || 'concept';
}

/** A trained concept's photos, read from the library when opened. */
function ConceptPhotos({ concept }: { concept: ConceptSummary }) {
  const [photos, setPhotos] = useState<Blob[] | string | null>(null);
  const open = () => {
    if (photos === null) conceptStore.get(concept.id).then((c) => setPhotos(c?.photos ?? []), (e) => setPhotos(errorMessage(e)));
  };
  return (
    <details onToggle={(e) => e.currentTarget.open && open()}>
      <summary>Photos ({concept.photoCount})</summary>
      {typeof photos === 'string' ? (
        <p className="error">{photos}</p>
      ) : (
        photos && (
          <div className="concept-photos">
            {photos.map((photo, i) => (
              <BlobImage key={i} blob={photo} alt={`Training photo ${i + 1} of ${concept.token}`} />
            ))}
          </div>
        )
      )}
    </details>
  );
}

function ConceptCard({ concept, model }: { concept: ConceptSummary; model: Pick<ModelInfo, 'id' | 'name'> | null }) {
  const [confirming, setConfirming] = useState(false);
  const [renaming, setRenaming] = useState<string | null>(null);
  const otherModel = model !== null && concept.baseModel !== '' && !namesModel(concept.baseModel, model);
  const madeFor = nameOfId(concept.baseModel);
  return (
    <li className="card concept" data-testid="concept" aria-label={concept.token}>
      {concept.cover && <BlobImage blob={concept.cover} alt={`A training photo of ${concept.token}`} />}
      <div className="concept-body">
        {renaming === null ? (
          <h2>
            {concept.token} {concept.classWord && <span className="muted">({concept.classWord})</span>}
          </h2>
        ) : (
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              if (renaming !== concept.token) void updateConcept(concept.id, { token: renaming });
              setRenaming(null);
            }}
          >
            <label>
              New token
              <input
                value={renaming}
                required
                pattern="\S+"
                title="One word, no spaces, e.g. <my-dog>"
                autoFocus
                onChange={(e) => setRenaming(e.target.value)}
                aria-label={`New token for ${concept.token}`}
              />
            </label>
            <button type="submit">Rename</button>
            <button type="button" onClick={() => setRenaming(null)}>
              Keep {concept.token}
            </button>
          </form>
        )}
        <p className="muted">
          {methodLabel(concept)} · {concept.origin === 'trained' ? `trained${concept.steps !== null ? ` ${concept.steps} steps` : ''}` : `imported from ${concept.fileName}`} ·{' '}
          {new Date(concept.created).toLocaleDateString()} · {formatBytes(concept.bytes)}
          {concept.photoCount > 0 && ` · ${concept.photoCount} photos`}
        </p>
        {concept.photoCount > 0 && <ConceptPhotos concept={concept} />}
        {concept.lossCurve && <LossCurve curve={concept.lossCurve} token={concept.token} />}
        {concept.baseModel && <p className={otherModel ? 'warning' : 'muted'}>{otherModel ? `Made for ${madeFor}; ${model.name} is loaded.` : `For ${madeFor}`}</p>}
        {concept.loraLayers > 0 && <ConceptStrength concept={concept} />}
        {summaryMethod(concept) === 'perfusion' && <ConceptGateBias concept={concept} />}
        {concept.embeddingVectors > 0 && summaryMethod(concept) !== 'pplus' && (
          <p className="muted">
            A saved embedding keeps the word {concept.token} for diffusers; in AUTOMATIC1111 and ComfyUI the prompt word is the file's name: write {fileWord(concept.token)}.
          </p>
        )}
        <div className="row">
          <button type="button" onClick={() => putConceptInPrompt(concept.token)}>
            Use in a prompt
          </button>
          {summaryMethod(concept) === 'pplus' && (
            <>
              <button type="button" onClick={() => void downloadConcept(concept.id, { kind: 'layer-embeddings' })}>
                Save P+ embedding
              </button>
              <button type="button" onClick={() => void downloadConcept(concept.id, { kind: 'layer-embeddings', layout: 'kohya-xti' })}>
                Save P+ (kohya XTI)
              </button>
            </>
          )}
          {summaryMethod(concept) === 'perfusion' && (
            <button type="button" onClick={() => void downloadConcept(concept.id, { kind: 'perfusion' })}>
              Save Perfusion edit
            </button>
          )}
          {concept.embeddingVectors > 0 && summaryMethod(concept) !== 'pplus' && (
            <button type="button" onClick={() => void downloadConcept(concept.id, { kind: 'embedding', layout: 'single-key' })}>
              Save embedding
            </button>
          )}
          {concept.loraLayers > 0 && (
            <>
              <button type="button" onClick={() => void downloadConcept(concept.id, { kind: 'lora', layout: 'kohya', dtype: 'F16' })}>
                Save LoRA (kohya / A1111 / ComfyUI)
              </button>
              <button type="button" onClick={() => void downloadConcept(concept.id, { kind: 'lora', layout: 'peft', dtype: 'F16' })}>
                Save LoRA (diffusers)
              </button>
            </>
          )}
          {renaming === null && (
            <button type="button" onClick={() => setRenaming(concept.token)}>
              Rename
            </button>
          )}
          {confirming ? (
            <>
              <button type="button" className="danger" onClick={() => void deleteConcept(concept.id)}>
                Delete {concept.token} for good
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
        <ConceptEvaluation concept={concept} blocked={!model ? 'Load a model first.' : otherModel ? `Load ${madeFor} to evaluate it.` : null} />
      </div>
    </li>
  );
}

export function LibrarySection() {
  const library = useStudio((s) => s.library);
  const model = useStudio((s) => s.model);
  const drop = useDropZone((data) => void importConceptFiles(Array.from(data.files)));
  const order = useEvaluations((s) => s.order);
  const concepts = orderConcepts(library.concepts, order, (c) => c.evaluation);

  return (
    <section className="section" aria-labelledby="library-title" data-testid="section-library">
      <h1 id="library-title">Library</h1>
      <p className="lead">Your concepts, kept in this browser. Write a concept's token in a prompt to use it.</p>

      <div className={`card${drop.dropping ? ' dropping' : ''}`} {...drop.handlers}>
        <h2>Import</h2>
        <p className="muted">
          Textual-inversion embeddings (.safetensors, AUTOMATIC1111 .pt, diffusers .bin) and LoRAs as .safetensors: UNet, text encoder and LoCon layers, from
          diffusers, AUTOMATIC1111, ComfyUI and kohya. Drop files here or pick them.
          {!model && ' Load a model first: files are checked against it.'}
        </p>
        <input type="file" multiple aria-label="Import concept files" disabled={!model} onChange={(e) => void importConceptFiles(Array.from(e.target.files ?? [])).then(() => (e.target.value = ''))} />
      </div>

      {library.notice && (
        <div className={`card${library.notice.tone === 'error' ? ' error' : ''}`} role={library.notice.tone === 'error' ? 'alert' : 'status'} data-testid="library-notice">
          <p>{library.notice.message}</p>
          {library.notice.items && (
            <ul>
              {library.notice.items.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          )}
          {library.notice.hint && <p className="muted">{library.notice.hint}</p>}
        </div>
      )}

      {library.partial.map((p) => (
        <div key={`${p.file.name}-${p.file.lastModified}`} className="card warning" role="alert" data-testid="partial-import">
          <p>{p.message}</p>
          <div className="row">
            <button type="button" onClick={() => void importConceptFiles([p.file], true)}>
              Import {p.file.name} without them
            </button>
            <button type="button" onClick={() => leaveOutPartial(p.file)}>
              Leave it out
            </button>
          </div>
        </div>
      ))}

      {library.loaded && library.concepts.length === 0 && (
        <div className="card">
          <p>No concepts yet.</p>
          <button type="button" onClick={() => showSection('new-concept')}>
            Teach a new concept
          </button>
        </div>
      )}
      {library.concepts.length > 1 && (
        <div className="row">
          <SelectField label="Order" name="library-order" value={order} choices={LIBRARY_ORDERS} onChange={setLibraryOrder} />
        </div>
      )}
      <ul className="concept-list" data-testid="concepts">
        {concepts.map((c) => (
          <ConceptCard key={c.id} concept={c} model={model} />
        ))}
      </ul>

      {library.unreadable.length > 0 && (
        <div className="card error" role="alert">
          <h2>Concepts that cannot be read</h2>
          <ul>
            {library.unreadable.map((u) => (
              <li key={u.id}>
                {u.reason}{' '}
                <button type="button" onClick={() => void deleteConcept(u.id)}>
                  Delete
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
