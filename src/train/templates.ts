/**
 * Training prompts: the randomised templates of diffusers' `examples/textual_inversion/
 * textual_inversion.py` (`imagenet_templates_small` for objects, `imagenet_style_templates_small`
 * for styles), `{}` filled with the concept's placeholder.
 */

export const CONCEPT_KINDS = ['object', 'style'] as const;
export type ConceptKind = (typeof CONCEPT_KINDS)[number];

export const OBJECT_TEMPLATES: readonly string[] = [
  'a photo of a {}',
  'a rendering of a {}',
  'a cropped photo of the {}',
  'the photo of a {}',
  'a photo of a clean {}',
  'a photo of a dirty {}',
  'a dark photo of the {}',
  'a photo of my {}',
  'a photo of the cool {}',
  'a close-up photo of a {}',
  'a bright photo of the {}',
  'a cropped photo of a {}',
  'a photo of the {}',
  'a good photo of the {}',
  'a photo of one {}',
  'a close-up photo of the {}',
  'a rendition of the {}',
  'a photo of the clean {}',
  'a rendition of a {}',
  'a photo of a nice {}',
  'a good photo of a {}',
  'a photo of the nice {}',
  'a photo of the small {}',
  'a photo of the weird {}',
  'a photo of the large {}',
  'a photo of a cool {}',
  'a photo of a small {}',
];

export const STYLE_TEMPLATES: readonly string[] = [
  'a painting in the style of {}',
  'a rendering in the style of {}',
  'a cropped painting in the style of {}',
  'the painting in the style of {}',
  'a clean painting in the style of {}',
  'a dirty painting in the style of {}',
  'a dark painting in the style of {}',
  'a picture in the style of {}',
  'a cool painting in the style of {}',
  'a close-up painting in the style of {}',
  'a bright painting in the style of {}',
  'a cropped painting in the style of {}',
  'a good painting in the style of {}',
  'a close-up painting in the style of {}',
  'a rendition in the style of {}',
  'a nice painting in the style of {}',
  'a small painting in the style of {}',
  'a weird painting in the style of {}',
  'a large painting in the style of {}',
];

/** The run's prompts: its own `templates` when it has some, else the kind's. */
export function templatesFor(kind: ConceptKind, templates?: readonly string[]): readonly string[] {
  if (templates && templates.length > 0) return templates;
  return kind === 'style' ? STYLE_TEMPLATES : OBJECT_TEMPLATES;
}

/** `template.format(placeholder)`. */
export function fillTemplate(template: string, placeholder: string): string {
  return template.replace('{}', placeholder);
}

/** The prompt for a uniform `u` in [0, 1): template ⌊u · count⌋, as `random.choice` picks. */
export function templatePrompt(templates: readonly string[], placeholder: string, u: number): string {
  return fillTemplate(templates[Math.min(Math.floor(u * templates.length), templates.length - 1)], placeholder);
}
