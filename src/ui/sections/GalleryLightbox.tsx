/**
 * One gallery image, large, with the settings that made it: a modal dialog (focus stays inside,
 * Esc closes it, ← and → move through the gallery) and its actions.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { GalleryRecord } from '../../library/gallery-store';
import { BlobImage } from '../BlobImage';
import { galleryStore } from '../gallery';
import { fillComposer } from '../store';
import { imageLabel } from './GalleryGrid';

const METHODS = { ti: 'embedding', lora: 'LoRA', both: 'embedding + LoRA', dreambooth: 'DreamBooth LoRA', pplus: 'per-layer embedding (P+)', perfusion: 'Perfusion edit' } as const;

export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function useImage(id: string): Blob | null {
  const [blob, setBlob] = useState<Blob | null>(null);
  useEffect(() => {
    let live = true;
    setBlob(null);
    galleryStore.image(id).then((b) => live && setBlob(b), () => {});
    return () => {
      live = false;
    };
  }, [id]);
  return blob;
}

interface Props {
  record: GalleryRecord;
  position: string;
  onMove: (by: -1 | 1) => void;
  onClose: () => void;
  onDelete: () => void;
}

export function GalleryLightbox({ record, position, onMove, onClose, onDelete }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const image = useImage(record.id);
  const [told, setTold] = useState('');
  const s = record.settings;
  // Opened once; not closed in a cleanup: StrictMode's extra unmount would fire its close event.
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  useEffect(() => setTold(''), [record.id]);
  const keys = (e: KeyboardEvent) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      if ((e.target as HTMLElement).closest('input, textarea, select')) return;
      e.preventDefault();
      onMove(e.key === 'ArrowLeft' ? -1 : 1);
    }
  };
  const copy = () =>
    navigator.clipboard.writeText(s.prompt).then(
      () => setTold('Prompt copied.'),
      () => setTold('The browser did not allow copying: select the prompt and copy it.'),
    );
  const download = async () => {
    const png = image ?? (await galleryStore.image(record.id));
    if (png) saveBlob(png, `studio-${s.seed}.png`);
  };

  return (
    <dialog ref={dialog} className="lightbox" aria-labelledby="lightbox-title" onClose={onClose} onKeyDown={keys} data-testid="lightbox">
      <div className="row" style={{ justifyContent: 'space-between', marginTop: 0 }}>
        <h2 id="lightbox-title">Image {position}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="lightbox-body">
        {image ? <BlobImage blob={image} alt={imageLabel(record)} className="lightbox-image" /> : <span className="lightbox-image" role="img" aria-label={imageLabel(record)} />}
        <dl data-testid="lightbox-settings">
          <dt>Prompt</dt>
          <dd>{s.prompt}</dd>
          {s.negativePrompt && (
            <>
              <dt>Negative prompt</dt>
              <dd>{s.negativePrompt}</dd>
            </>
          )}
          <dt>Seed</dt>
          <dd>{s.seed}</dd>
          <dt>Steps</dt>
          <dd>{s.steps}</dd>
          <dt>Sampler</dt>
          <dd>{s.sampler.toUpperCase()}</dd>
          <dt>Guidance</dt>
          <dd>{s.guidanceScale}</dd>
          <dt>Size</dt>
          <dd>
            {s.width}×{s.height}
          </dd>
          <dt>Model</dt>
          <dd>{s.modelName}</dd>
          <dt>Concepts</dt>
          <dd>{s.concepts.length === 0 ? 'none' : s.concepts.map((c) => `${c.token} (${METHODS[c.method]}${c.method === 'ti' || c.method === 'pplus' ? '' : `, strength ${c.strength}`})`).join(', ')}</dd>
          <dt>Made</dt>
          <dd>
            {new Date(record.createdAt).toLocaleString()} in {(record.durationMs / 1000).toFixed(1)} s
          </dd>
        </dl>
      </div>
      <div className="row">
        <button type="button" onClick={() => fillComposer(s)}>
          Use these settings
        </button>
        <button type="button" onClick={() => fillComposer({ ...s, seed: randomSeed() })}>
          Vary seed
        </button>
        <button type="button" onClick={() => void download()}>
          Download PNG
        </button>
        <button type="button" onClick={() => void copy()}>
          Copy prompt
        </button>
        <button type="button" className="danger" onClick={onDelete}>
          Delete
        </button>
        <button type="button" onClick={() => onMove(-1)} aria-label="Newer image">
          ←
        </button>
        <button type="button" onClick={() => onMove(1)} aria-label="Older image">
          →
        </button>
      </div>
      <p role="status" className="muted">
        {told}
      </p>
    </dialog>
  );
}
