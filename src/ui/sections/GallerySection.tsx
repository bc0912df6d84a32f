/**
 * The Gallery: every image generated in this browser, newest first, with the settings that made
 * it; filters, selection with Delete (and Undo), a lightbox, and the site's storage.
 */
import { useEffect, useMemo, useState } from 'react';
import type { GalleryChoices, GalleryFilter } from '../../library/gallery-store';
import { deleteImages, dismissGalleryNotice, galleryStore, undoDelete, useGallery } from '../gallery';
import { useGalleryPages } from '../useGalleryPages';
import { GalleryGrid } from './GalleryGrid';
import { GalleryLightbox } from './GalleryLightbox';
import { GalleryStorage } from './GalleryStorage';

/** What the gallery last did or could not do; `failuresOnly` where other sections show it (a full disk, in Generate). */
export function GalleryNotice({ failuresOnly = false }: { failuresOnly?: boolean }) {
  const notice = useGallery((s) => s.notice);
  const undo = useGallery((s) => s.undo);
  if (!notice || (failuresOnly && notice.tone !== 'error')) return null;
  return (
    <div className={`card${notice.tone === 'error' ? ' error' : ''}`} role={notice.tone === 'error' ? 'alert' : 'status'} data-testid="gallery-notice">
      <p>{notice.message}</p>
      {notice.hint && <p className="muted">{notice.hint}</p>}
      <div className="row">
        {undo && notice.tone === 'ok' && (
          <button type="button" onClick={() => void undoDelete()}>
            Undo
          </button>
        )}
        <button type="button" onClick={dismissGalleryNotice}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

function useChoices(): GalleryChoices {
  const revision = useGallery((s) => s.revision);
  const [choices, setChoices] = useState<GalleryChoices>({ models: [], concepts: [] });
  useEffect(() => {
    galleryStore.choices().then(setChoices, () => {});
  }, [revision]);
  return choices;
}

export function GallerySection() {
  const [filter, setFilter] = useState<GalleryFilter>({});
  const [text, setText] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<number | null>(null);
  const choices = useChoices();
  // The prompt filter applies once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => setFilter((f) => ({ ...f, text })), 250);
    return () => clearTimeout(t);
  }, [text]);
  const effective = useMemo(() => filter, [filter.concept, filter.modelId, filter.text]);
  const pages = useGalleryPages(effective);
  const record = open === null ? undefined : pages.records[open];
  const count = pages.total;
  const filtered = !!(filter.concept || filter.modelId || filter.text);

  const select = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const move = (by: -1 | 1) => {
    if (open === null) return;
    const next = open + by;
    if (next < 0 || (count !== null && next >= count)) return;
    pages.loadThrough(next);
    setOpen(next);
  };
  const removeSelected = async () => {
    await deleteImages([...selected]);
    setSelected(new Set());
  };

  return (
    <section className="section" aria-labelledby="gallery-title" data-testid="section-gallery">
      <h1 id="gallery-title">Gallery</h1>
      <p className="lead">Every image you generate, with the prompt and settings that made it.</p>
      <GalleryNotice />
      <div className="card gallery-filters" role="search" aria-label="Filter the gallery">
        <label>
          Prompt contains
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="any words" />
        </label>
        <label>
          Concept
          <select value={filter.concept ?? ''} onChange={(e) => setFilter((f) => ({ ...f, concept: e.target.value || undefined }))}>
            <option value="">Any concept</option>
            {choices.concepts.map((token) => (
              <option key={token} value={token}>
                {token}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model
          <select value={filter.modelId ?? ''} onChange={(e) => setFilter((f) => ({ ...f, modelId: e.target.value || undefined }))}>
            <option value="">Any model</option>
            {choices.models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="gallery-toolbar">
        <span role="status" data-testid="gallery-count">
          {count === null ? 'Reading the gallery…' : `${count} ${count === 1 ? 'image' : 'images'}${filtered ? ' match' : ''}`}
          {pages.unreadable > 0 && ` (${pages.unreadable} stored records cannot be read)`}
        </span>
        {selected.size > 0 && (
          <>
            <button type="button" className="danger" onClick={() => void removeSelected()}>
              Delete selected ({selected.size})
            </button>
            <button type="button" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          </>
        )}
      </div>
      {count === 0 && !filtered ? (
        <p className="muted">No images yet: the images you generate are kept here.</p>
      ) : (
        <GalleryGrid pages={pages} selected={selected} onSelect={select} onOpen={setOpen} />
      )}
      {record && open !== null && (
        <GalleryLightbox
          record={record}
          position={`${open + 1} of ${count ?? pages.records.length}`}
          onMove={move}
          onClose={() => setOpen(null)}
          onDelete={() => {
            setOpen(null);
            void deleteImages([record.id]);
          }}
        />
      )}
      <GalleryStorage />
    </section>
  );
}
