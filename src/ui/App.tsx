import { useEffect } from 'react';
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

  if (engine.state === 'unavailable') return <WebGpuUnavailable error={engine.error} />;

  return (
    <div className="studio">
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
        <GpuPanel />
      </div>
    </div>
  );
}
