/**
 * The gallery's grid: rows of thumbnails virtualised by @tanstack/react-virtual, so the DOM holds
 * only the rows in view (and a few around them) at 10,000 images. The columns follow the width.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import type { GalleryRecord } from '../../library/gallery-store';
import { BlobImage } from '../BlobImage';
import type { GalleryPages } from '../useGalleryPages';
import { useThumbnail } from '../useThumbnail';

const TILE = 152;
const GAP = 8;

function useColumns(element: HTMLElement | null): number {
  const [columns, setColumns] = useState(4);
  useEffect(() => {
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setColumns(Math.max(1, Math.floor((entry.contentRect.width + GAP) / (TILE + GAP)))));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return columns;
}

/** How a tile names its image (its prompt and seed). */
export function imageLabel(record: GalleryRecord): string {
  return `${record.settings.prompt || '(no prompt)'}, seed ${record.settings.seed}`;
}

function Tile({ record, selected, onSelect, onOpen }: { record: GalleryRecord; selected: boolean; onSelect: (on: boolean) => void; onOpen: () => void }) {
  const thumbnail = useThumbnail(record.id);
  const label = imageLabel(record);
  return (
    <div className={`gallery-tile${selected ? ' selected' : ''}`} data-testid="gallery-tile" data-id={record.id}>
      <button type="button" className="gallery-open" onClick={onOpen} aria-label={`Open ${label}`}>
        {thumbnail ? <BlobImage blob={thumbnail} alt="" className="gallery-thumb" /> : <span className="gallery-thumb" />}
      </button>
      <input type="checkbox" className="gallery-select" checked={selected} onChange={(e) => onSelect(e.target.checked)} aria-label={`Select ${label}`} />
    </div>
  );
}

export function GalleryGrid({ pages, selected, onSelect, onOpen }: { pages: GalleryPages; selected: Set<string>; onSelect: (id: string, on: boolean) => void; onOpen: (index: number) => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const columns = useColumns(element);
  const count = pages.total ?? pages.records.length;
  const rows = Math.ceil(count / columns);
  const virtualizer = useVirtualizer({ count: rows, getScrollElement: () => scroller.current, estimateSize: () => TILE + GAP, overscan: 2 });
  const items = virtualizer.getVirtualItems();
  const lastRow = items.at(-1)?.index ?? 0;
  const { loadThrough } = pages;
  useEffect(() => loadThrough((lastRow + 1) * columns - 1), [lastRow, columns, loadThrough]);

  return (
    <div
      ref={(el) => {
        scroller.current = el;
        setElement(el);
      }}
      className="gallery-scroller"
      data-testid="gallery-grid"
      tabIndex={0}
      aria-label="Gallery images"
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {items.map((row) => (
          <div key={row.key} className="gallery-row" style={{ transform: `translateY(${row.start}px)`, gridTemplateColumns: `repeat(${columns}, ${TILE}px)` }}>
            {Array.from({ length: columns }, (_, c) => {
              const index = row.index * columns + c;
              if (index >= count) return null;
              const record = pages.records[index];
              return record ? (
                <Tile key={record.id} record={record} selected={selected.has(record.id)} onSelect={(on) => onSelect(record.id, on)} onOpen={() => onOpen(index)} />
              ) : (
                <span key={`pending-${index}`} className="gallery-tile pending" aria-hidden="true" />
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}
