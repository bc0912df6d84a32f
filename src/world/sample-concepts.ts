/**
 * Four sample concepts the shapes model has never seen, each built from world.md's held-out
 * vocabulary (teal, brown, crescent/arrow, striped/checkered) on training vocabulary, with seeded
 * training photos (large, centred, jittered) and the canonical image C the held-out metrics use.
 */
import { SeededRng } from '../common/random';
import { COLORS, HELD_OUT_COLORS, type Rgb } from './palette';
import { renderScene, type WorldImage, type WorldObject, type WorldScene } from './render';
import type { AnyShapeName, PatternKind, ShapeName } from './shapes';

export interface SampleConcept {
  id: string;
  /** The placeholder word, e.g. "<teal-heart>". */
  token: string;
  /** The training word the concept is closest to, for class-preserving prompts. */
  classWord: ShapeName;
  title: string;
  /** One line for the UI: what is new about it for this model. */
  description: string;
  background: Rgb;
  /** The object's colours: colour1 (and colour2 for a fill pattern). */
  colors: readonly Rgb[];
  shape: AnyShapeName;
  pattern?: PatternKind;
  /** The held-out words (world.md) the concept is made of. */
  heldOut: readonly string[];
  /** The object at (32, 32) with r = 17; with `rng`, r + U(-1, 1) and centre + U(-2, 2) each way. */
  scene(rng?: SeededRng): WorldScene;
}

/** Photos: radius 17 + U(-1,1), centre (32,32) + U(-2,2). */
export const PHOTO_RADIUS = 17;
export const PHOTO_CENTRE = 32;

type Spec = Omit<SampleConcept, 'token' | 'scene'>;

function define(spec: Spec): SampleConcept {
  return {
    ...spec,
    token: `<${spec.id}>`,
    scene(rng?: SeededRng): WorldScene {
      const jitter = (half: number) => (rng ? half * (2 * rng.next() - 1) : 0);
      const cx = PHOTO_CENTRE + jitter(2);
      const cy = PHOTO_CENTRE + jitter(2);
      const object: WorldObject = { shape: spec.shape, cx, cy, r: PHOTO_RADIUS + jitter(1), color: spec.colors[0] };
      if (spec.pattern) object.pattern = { kind: spec.pattern, color2: spec.colors[1] };
      return { background: spec.background, objects: [object] };
    },
  };
}

export const SAMPLE_CONCEPTS: readonly SampleConcept[] = [
  define({
    id: 'teal-heart',
    classWord: 'heart',
    title: 'Teal heart',
    description: 'A heart in teal, a colour the model was never shown (its nearest training colours are green and blue).',
    background: COLORS.white,
    colors: [HELD_OUT_COLORS.teal],
    shape: 'heart',
    heldOut: ['teal'],
  }),
  define({
    id: 'striped-ball',
    classWord: 'circle',
    title: 'Striped ball',
    description: 'A circle with red and white horizontal stripes on blue: the model only ever drew solid fills.',
    background: COLORS.blue,
    colors: [COLORS.red, COLORS.white],
    shape: 'circle',
    pattern: 'striped',
    heldOut: ['striped'],
  }),
  // Class "triangle": the arrow's one pointed head is a triangle, and no other training shape has a single tip.
  define({
    id: 'brown-arrow',
    classWord: 'triangle',
    title: 'Brown arrow',
    description: 'A brown arrow pointing right on yellow: both the arrow shape and the colour brown are new.',
    background: COLORS.yellow,
    colors: [HELD_OUT_COLORS.brown],
    shape: 'arrow',
    heldOut: ['brown', 'arrow'],
  }),
  define({
    id: 'checker-box',
    classWord: 'square',
    title: 'Checker box',
    description: 'A square with a black and yellow 4x4 checkerboard on gray: the model only ever drew solid fills.',
    background: COLORS.gray,
    colors: [COLORS.black, COLORS.yellow],
    shape: 'square',
    pattern: 'checkered',
    heldOut: ['checkered'],
  }),
];

export function sampleConcept(id: string): SampleConcept | undefined {
  return SAMPLE_CONCEPTS.find((c) => c.id === id);
}

/** `count` training photos, the same for the same `seed`. */
export function conceptPhotos(concept: SampleConcept, count = 5, seed = 0): WorldImage[] {
  const rng = new SeededRng(seed);
  return Array.from({ length: count }, () => renderScene(concept.scene(rng)));
}

/** The metrics' C: the object centred at (32, 32), r = 17, no jitter. */
export function canonicalImage(concept: SampleConcept): WorldImage {
  return renderScene(concept.scene());
}
