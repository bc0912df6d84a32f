import { useEffect, useState, type MouseEvent } from 'react';
import { announcement } from './announcements';
import { GpuPanel } from './GpuPanel';
import { restoreSession } from './training-actions';
import { GallerySection } from './sections/GallerySection';
import { GenerateSection } from './sections/GenerateSection';
import { keepGeneratedImages } from './gallery';
import { LibrarySection } from './sections/LibrarySection';
import { ModelsSection } from './sections/ModelsSection';
import { NewConceptSection } from './sections/NewConceptSection';
import { SECTION_TITLES } from './sections/Sections';
import { SECTIONS, showSection, startEngine, useStudio } from './store';
import { WebGpuUnavailable } from './WebGpuUnavailable';

export function App() {
  const section = useStudio((s) => s.section);
  const engine = useStudio((s) => s.engine);
  const model = useStudio((s) => s.model);
  const loading = useStudio((s) => s.modelLoad.state === 'loading');

  useEffect(() => {
    void startEngine();
    void restoreSession();
  }, []);
  useEffect(keepGeneratedImages, []);
  const spoken = useAnnouncements();

  if (engine.state === 'unavailable') return <WebGpuUnavailable error={engine.error} />;

  return (
    <div className="studio">
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to the section
      </a>
      <div className="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
        {spoken}
      </div>
      <header className="topbar">
        <span className="brand">Diffusion Studio</span>
        <button type="button" className="model-name" data-testid="topbar-model" title="Models" onClick={() => showSection('models')}>
          {model ? model.card.title : loading ? 'Loading a model…' : 'No model'}
        </button>
        <nav aria-label="Sections">
          {SECTIONS.map((s) => (
            <button key={s} type="button" aria-current={s === section ? 'page' : undefined} onClick={() => showSection(s)}>
              {SECTION_TITLES[s]}
            </button>
          ))}
        </nav>
      </header>
      <div className="workspace">
        <main id="main" tabIndex={-1}>
          {section === 'models' ? (
            <ModelsSection />
          ) : section === 'generate' ? (
            <GenerateSection />
          ) : section === 'new-concept' ? (
            <NewConceptSection />
          ) : section === 'library' ? (
            <LibrarySection />
          ) : (
            <GallerySection />
          )}
        </main>
        <GpuPanel />
      </div>
    </div>
  );
}

/** Moves focus to the section itself (not only the scroll position), so Tab goes on from there. */
function skipToMain(e: MouseEvent<HTMLAnchorElement>): void {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

/** The live region's sentence: the latest of finished images and training milestones. */
function useAnnouncements(): string {
  const [text, setText] = useState('');
  useEffect(
    () =>
      useStudio.subscribe((after, before) => {
        const said = announcement(before, after);
        if (said) setText(said);
      }),
    [],
  );
  return text;
}
