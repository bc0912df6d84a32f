import type { Section } from '../store';

/**
 * The studio's sections. Each says what it will hold until the issue that builds it lands.
 */
export const SECTION_TITLES: Record<Section, string> = {
  library: 'Library',
  'new-concept': 'New concept',
  generate: 'Generate',
  gallery: 'Gallery',
  models: 'Models',
};

const COMING: Record<Exclude<Section, 'generate' | 'models' | 'new-concept' | 'library'>, { lead: string; items: string[] }> = {
  gallery: {
    lead: 'Every image you generate, with the prompt and settings that made it.',
    items: ['Stored in this browser; save or delete any image.'],
  },
};

export function SectionView({ section }: { section: Exclude<Section, 'generate' | 'models' | 'new-concept' | 'library'> }) {
  const { lead, items } = COMING[section];
  return (
    <section className="section" aria-labelledby={`${section}-title`} data-testid={`section-${section}`}>
      <h1 id={`${section}-title`}>{SECTION_TITLES[section]}</h1>
      <p className="lead">{lead}</p>
      <div className="coming">
        <h2>Coming here</h2>
        <ul>
          {items.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      </div>
    </section>
  );
}
