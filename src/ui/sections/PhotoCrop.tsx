/**
 * One training photo, shown as the square training will use: drag the picture, or focus it and
 * use the arrow keys, to move the square; the slider (or + and −) zooms; × removes the photo.
 */
import { useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { BlobImage } from '../BlobImage';
import { clampCrop, cropRect, MIN_CROP_SIZE, panCrop, type PhotoCrop as Crop } from '../../library/photo-crop';

/** A tenth of the room per arrow key; a quarter more or less zoom per + or −. */
const STEP = 0.1;
const ZOOM = 1.25;

const KEYS: Record<string, (c: Crop) => Crop> = {
  ArrowLeft: (c) => ({ ...c, x: c.x - STEP }),
  ArrowRight: (c) => ({ ...c, x: c.x + STEP }),
  ArrowUp: (c) => ({ ...c, y: c.y - STEP }),
  ArrowDown: (c) => ({ ...c, y: c.y + STEP }),
  '+': (c) => ({ ...c, size: c.size / ZOOM }),
  '=': (c) => ({ ...c, size: c.size / ZOOM }),
  '-': (c) => ({ ...c, size: c.size * ZOOM }),
};

export function PhotoCrop({ photo, crop, disabled, helpId, onCrop, onRemove }: { photo: File; crop: Crop; disabled: boolean; helpId: string; onCrop: (crop: Crop) => void; onRemove: () => void }) {
  // The photo's size as shown (the browser turns it upright by its EXIF orientation, as training does).
  const [shown, setShown] = useState<{ width: number; height: number } | null>(null);
  const drag = useRef<{ x: number; y: number } | null>(null);
  const latest = useRef(crop);
  latest.current = crop;
  const set = (next: Crop) => {
    latest.current = clampCrop(next);
    onCrop(latest.current);
  };
  const rect = shown && cropRect(shown.width, shown.height, crop);
  const placed = shown && rect && {
    width: `${(shown.width / rect.side) * 100}%`,
    height: `${(shown.height / rect.side) * 100}%`,
    left: `${(-rect.sx / rect.side) * 100}%`,
    top: `${(-rect.sy / rect.side) * 100}%`,
  };
  const move = (e: PointerEvent<HTMLDivElement>) => {
    if (!drag.current || !shown || !rect) return;
    const scale = rect.side / e.currentTarget.clientWidth; // image pixels per screen pixel
    const [dx, dy] = [e.clientX - drag.current.x, e.clientY - drag.current.y];
    drag.current = { x: e.clientX, y: e.clientY };
    set(panCrop(latest.current, shown.width, shown.height, dx * scale, dy * scale));
  };
  const key = (e: KeyboardEvent) => {
    const change = KEYS[e.key];
    if (!change || disabled) return;
    e.preventDefault();
    set(change(latest.current));
  };
  return (
    <figure className="photo">
      <div
        className="crop"
        role="group"
        aria-label={`Crop of ${photo.name}`}
        aria-describedby={helpId}
        tabIndex={disabled ? -1 : 0}
        onKeyDown={key}
        onPointerDown={(e) => {
          if (disabled) return;
          e.currentTarget.setPointerCapture(e.pointerId);
          drag.current = { x: e.clientX, y: e.clientY };
        }}
        onPointerMove={move}
        onPointerUp={() => (drag.current = null)}
        onPointerCancel={() => (drag.current = null)}
      >
        <BlobImage
          blob={photo}
          alt={photo.name}
          className={placed ? 'placed' : 'thumb'}
          style={placed ?? undefined}
          onLoad={(e) => setShown({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
        />
      </div>
      <input
        type="range"
        aria-label={`Zoom ${photo.name}`}
        min={1}
        max={1 / MIN_CROP_SIZE}
        step={0.05}
        value={1 / crop.size}
        disabled={disabled}
        onChange={(e) => set({ ...latest.current, size: 1 / Number(e.target.value) })}
      />
      <button type="button" aria-label={`Remove ${photo.name}`} disabled={disabled} onClick={onRemove}>
        ×
      </button>
    </figure>
  );
}
