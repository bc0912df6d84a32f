import type { Section } from '../store';

/** The studio's sections, as the navigation names them. */
export const SECTION_TITLES: Record<Section, string> = {
  library: 'Library',
  'new-concept': 'New concept',
  generate: 'Generate',
  gallery: 'Gallery',
  models: 'Models',
};
