/** How much of the browser's storage the site uses, and a request that the browser keep it. */
import { useEffect, useState } from 'react';
import { formatBytes } from '../format';
import { useGallery } from '../gallery';

type Persisted = 'unknown' | 'yes' | 'no' | 'refused';

export function GalleryStorage() {
  const revision = useGallery((s) => s.revision);
  const [estimate, setEstimate] = useState<StorageEstimate | null>(null);
  const [persisted, setPersisted] = useState<Persisted>('unknown');
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  useEffect(() => {
    storage?.estimate().then(setEstimate, () => setEstimate(null));
  }, [revision]);
  useEffect(() => {
    storage?.persisted().then((p) => setPersisted(p ? 'yes' : 'no'), () => {});
  }, []);
  if (!storage) return null;
  const ask = () => storage.persist().then((granted) => setPersisted(granted ? 'yes' : 'refused'), () => setPersisted('refused'));
  return (
    <div className="card" data-testid="gallery-storage">
      <p>
        {estimate?.usage !== undefined && estimate.quota !== undefined
          ? `This site uses ${formatBytes(estimate.usage)} of the ${formatBytes(estimate.quota)} the browser allows it.`
          : 'The browser does not say how much storage this site may use.'}{' '}
        Images stay in this browser; nothing is uploaded.
      </p>
      {persisted === 'yes' ? (
        <p role="status">The browser keeps these images even when it is short of space.</p>
      ) : (
        <div className="row">
          <button type="button" onClick={() => void ask()}>
            Keep images when the browser is short of space
          </button>
          {persisted === 'refused' && (
            <p role="status" className="muted">
              The browser said no (it decides from how you use the site, or after a bookmark). Images can still be cleared when space runs out.
            </p>
          )}
        </div>
      )}
    </div>
  );
}
