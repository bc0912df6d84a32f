/**
 * New concept's photos: dropped (files or folders), pasted (Ctrl+V anywhere in the section) or
 * picked; each screened and decoded as Train will decode it, each refused one named; each shown
 * as the square training uses, which the person can move and zoom (PhotoCrop).
 */
import { useEffect, useId, useState } from 'react';
import { errorMessage } from '../../common/errors';
import { photoRoom } from '../../engine/photo-rules';
import { admitPhotos } from '../admit-photos';
import { cropOf, withCrop } from '../draft-crops';
import { droppedFiles, dropItems, pastedImages } from '../dropped-files';
import { squarePhoto } from '../photos';
import { updateDraft, useStudio } from '../store';
import { useDropZone } from '../useDropZone';
import { PhotoCrop } from './PhotoCrop';

/** A key a photo keeps while it is listed (names repeat; places shift when one is removed). */
const keys = new WeakMap<File, number>();
let nextKey = 0;
const keyOf = (file: File) => keys.get(file) ?? keys.set(file, nextKey++).get(file)!;

export function PhotoStrip({ resolution, busy }: { resolution: number; busy: boolean }) {
  const photos = useStudio((s) => s.draft.photos);
  const crops = useStudio((s) => s.draft.crops);
  const [refused, setRefused] = useState<string[]>([]);
  const helpId = useId();
  // Each photo is decoded as Train will decode it; what fails is listed, and nothing of it is kept.
  const addPhotos = async (files: File[], notes: string[] = []) => {
    if (busy) return; // a run keeps the photos it started with
    const decode = (file: File) => squarePhoto(file, resolution).then((bitmap) => bitmap.close());
    const { added, refused } = await admitPhotos(files, useStudio.getState().draft.photos.length, decode);
    if (added.length) updateDraft((d) => ({ photos: [...d.photos, ...added] }));
    setRefused([...refused, ...notes]);
  };
  const drop = useDropZone((data) => {
    const items = dropItems(data); // now: a drop's items are gone once the event is over
    droppedFiles(items, photoRoom(useStudio.getState().draft.photos.length))
      .then(({ files, notes }) => addPhotos(files, notes))
      .catch((e) => setRefused([`The drop could not be read: ${errorMessage(e)}`]));
  });
  useEffect(() => {
    const paste = (e: ClipboardEvent) => {
      const images = pastedImages(e.clipboardData);
      if (images.length === 0) return; // text pastes into its field as usual
      e.preventDefault();
      void addPhotos(images);
    };
    document.addEventListener('paste', paste);
    return () => document.removeEventListener('paste', paste);
  });

  return (
    <div className={`card${drop.dropping ? ' dropping' : ''}`} {...drop.handlers} data-testid="photo-drop">
      <h2>Photos</h2>
      <p className="muted">Drop photos or a folder here, paste one (Ctrl+V), or pick them.</p>
      <input
        type="file"
        accept="image/*"
        multiple
        disabled={busy}
        aria-label="Add photos"
        onChange={(e) => {
          void addPhotos(Array.from(e.target.files ?? []));
          e.target.value = ''; // the same file may be picked again
        }}
      />
      <div className="thumbs" data-testid="photos">
        {photos.map((file) => (
          <PhotoCrop
            key={keyOf(file)}
            photo={file}
            crop={cropOf(crops, file)}
            disabled={busy}
            helpId={helpId}
            onCrop={(crop) => updateDraft((d) => ({ crops: withCrop(d.crops, d.photos, file, crop) }))}
            onRemove={() => updateDraft((d) => ({ photos: d.photos.filter((p) => p !== file) }))}
          />
        ))}
      </div>
      {photos.length > 0 && (
        <p className="muted" id={helpId}>
          Training uses the square shown: drag a photo, or focus it and use the arrow keys, to move it; its slider (or + and −) zooms.
        </p>
      )}
      {photos.length > 0 && photos.length < 3 && <p className="muted">3–5 photos from different angles work best.</p>}
      {refused.length > 0 && (
        <div className="error" role="alert" data-testid="photo-refusals">
          <p>Not added:</p>
          <ul>
            {refused.map((message, i) => (
              <li key={i}>{message}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
