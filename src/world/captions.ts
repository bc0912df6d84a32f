/**
 * The shapes world's training examples (world.md "Sampling one training example"): the sampling
 * procedure, caption grammar and vocabulary, and a parser that reads any caption of that grammar
 * back into its mentioned attributes. Same distribution as the Python reference, not its stream.
 */
import type { SeededRng } from '../common/random';
import { COLORS, COLOR_NAMES, objectColorsFor, type ColorName } from './palette';
import type { WorldObject, WorldScene } from './render';
import { SHAPE_NAMES, type ShapeName } from './shapes';

export const SIZE_NAMES = ['small', 'large'] as const;
export type SizeName = (typeof SIZE_NAMES)[number];
export const SIZE_RADIUS: Readonly<Record<SizeName, number>> = { small: 10, large: 17 };

export const POSITION_NAMES = ['left', 'right', 'top', 'bottom', 'center'] as const;
export type PositionName = (typeof POSITION_NAMES)[number];
export const POSITION_CENTRES: Readonly<Record<PositionName, readonly [number, number]>> = {
  left: [20, 32],
  right: [44, 32],
  top: [32, 20],
  bottom: [32, 44],
  center: [32, 32],
};
export const POSITION_PHRASES: Readonly<Record<PositionName, string>> = {
  left: 'on the left',
  right: 'on the right',
  top: 'at the top',
  bottom: 'at the bottom',
  center: 'in the center',
};
/** Two-object images: both small, object 1 left, object 2 right. */
export const TWO_OBJECT_CENTRES: readonly (readonly [number, number])[] = [[18, 32], [46, 32]];

export const PREFIXES = ['', '', 'a photo of ', 'a picture of ', 'an image of ', 'a drawing of '] as const;

export const PROBABILITIES = { twoObjects: 0.2, size: 0.75, color: 0.9, position: 0.75, background: 0.8 } as const;

/** Every word of every training caption (40). */
export const TRAINING_WORDS: readonly string[] = ('a an and at background black blue bottom center circle cross diamond drawing gray green heart image in ' +
  'large left next of on orange photo picture pink purple red right ring small square star the to top triangle white yellow').split(' ');
/** Words no training caption holds. */
export const HELD_OUT_WORDS: readonly string[] = ['crescent', 'arrow', 'striped', 'checkered', 'teal', 'brown'];

export interface ExampleObject {
  shape: ShapeName;
  color: ColorName;
  size: SizeName;
  position: PositionName;
}

export interface Example {
  caption: string;
  scene: WorldScene;
  kind: 'one' | 'two';
  objects: ExampleObject[];
  background: ColorName;
}

/** "an" before a vowel, else "a". */
export function article(nextWord: string): 'a' | 'an' {
  return /^[aeiou]/.test(nextWord) ? 'an' : 'a';
}

const withArticle = (words: string[]): string => [article(words[0]), ...words].join(' ');
const pick = <T>(rng: SeededRng, items: readonly T[]): T => items[rng.int(items.length)];
const uniform = (rng: SeededRng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/** One training example: scene, caption and the drawn attributes. */
export function sampleExample(rng: SeededRng): Example {
  const background = pick(rng, COLOR_NAMES);
  const colors = objectColorsFor(COLORS[background]);
  const drawn: ExampleObject[] = [];
  const placed: WorldObject[] = [];
  const place = (o: ExampleObject, [px, py]: readonly [number, number]) => {
    drawn.push(o);
    const [cx, cy] = [px + uniform(rng, -2, 2), py + uniform(rng, -2, 2)];
    placed.push({ shape: o.shape, cx, cy, r: SIZE_RADIUS[o.size] + uniform(rng, -1, 1), color: COLORS[o.color] });
  };
  let core: string;
  let kind: 'one' | 'two';
  if (rng.next() < PROBABILITIES.twoObjects) {
    kind = 'two';
    (['left', 'right'] as const).forEach((position, i) => place({ shape: pick(rng, SHAPE_NAMES), color: pick(rng, colors), size: 'small', position }, TWO_OBJECT_CENTRES[i]));
    const [a, b] = drawn.map((o) => withArticle([o.color, o.shape]));
    core = pick(rng, [`${a} and ${b}`, `${a} on the left and ${b} on the right`, `${a} next to ${b}`]);
  } else {
    kind = 'one';
    const o: ExampleObject = { shape: pick(rng, SHAPE_NAMES), size: pick(rng, SIZE_NAMES), position: pick(rng, POSITION_NAMES), color: pick(rng, colors) };
    place(o, POSITION_CENTRES[o.position]);
    const words = [rng.next() < PROBABILITIES.size ? o.size : '', rng.next() < PROBABILITIES.color ? o.color : '', o.shape].filter((w) => w !== '');
    core = withArticle(words) + (rng.next() < PROBABILITIES.position ? ` ${POSITION_PHRASES[o.position]}` : '');
  }
  let backgroundPhrase = '';
  if (rng.next() < PROBABILITIES.background) backgroundPhrase = rng.next() < 0.5 ? ` on ${withArticle([background, 'background'])}` : `, ${background} background`;
  const caption = pick(rng, PREFIXES) + core + backgroundPhrase;
  return { caption, scene: { background: COLORS[background], objects: placed }, kind, objects: drawn, background };
}

/** An object as a caption mentions it; unmentioned attributes are absent. */
export interface MentionedObject {
  shape: ShapeName;
  color?: ColorName;
  size?: SizeName;
  position?: PositionName;
}

export interface ParsedCaption {
  prefix: (typeof PREFIXES)[number];
  kind: 'one' | 'two';
  /** Two-object captions: which of the three forms. */
  form?: 'and' | 'left-right' | 'next-to';
  objects: MentionedObject[];
  background?: ColorName;
  backgroundForm?: 'on' | 'comma';
}

const alt = (words: readonly string[]) => `(${words.join('|')})`;
const SHAPE = alt(SHAPE_NAMES);
const COLOR = alt(COLOR_NAMES);
const ONE = new RegExp(`^(an?) (?:${alt(SIZE_NAMES)} )?(?:${COLOR} )?${SHAPE}(?: ${alt(Object.values(POSITION_PHRASES))})?$`);
const PAIR = `(an?) ${COLOR} ${SHAPE}`;
const TWO: readonly [NonNullable<ParsedCaption['form']>, RegExp][] = [
  ['left-right', new RegExp(`^${PAIR} on the left and ${PAIR} on the right$`)],
  ['and', new RegExp(`^${PAIR} and ${PAIR}$`)],
  ['next-to', new RegExp(`^${PAIR} next to ${PAIR}$`)],
];
const BACKGROUND = new RegExp(`(?: on (an?) ${COLOR} background|, ${COLOR} background)$`);

/** The attributes a caption of the training grammar mentions, or null when it is not of that grammar (articles included). */
export function parseCaption(caption: string): ParsedCaption | null {
  const prefix = [...PREFIXES].sort((a, b) => b.length - a.length).find((p) => caption.startsWith(p)) ?? '';
  let rest = caption.slice(prefix.length);
  const out: ParsedCaption = { prefix, kind: 'one', objects: [] };
  const bg = BACKGROUND.exec(rest);
  if (bg) {
    if (bg[2] !== undefined && bg[1] !== article(bg[2])) return null;
    out.background = (bg[2] ?? bg[3]) as ColorName;
    out.backgroundForm = bg[2] !== undefined ? 'on' : 'comma';
    rest = rest.slice(0, bg.index);
  }
  const one = ONE.exec(rest);
  if (one) {
    const [, art, size, color, shape, phrase] = one;
    if (art !== article(size ?? color ?? shape)) return null;
    const position = POSITION_NAMES.find((p) => POSITION_PHRASES[p] === phrase);
    out.objects.push({ shape: shape as ShapeName, ...(size && { size: size as SizeName }), ...(color && { color: color as ColorName }), ...(position && { position }) });
    return out;
  }
  for (const [form, pattern] of TWO) {
    const m = pattern.exec(rest);
    if (!m) continue;
    const objects = [m.slice(1, 4), m.slice(4, 7)].map(([art, color, shape], i): MentionedObject | null =>
      art !== article(color) ? null : { shape: shape as ShapeName, color: color as ColorName, ...(form === 'left-right' && { position: i === 0 ? 'left' : 'right' }) },
    );
    if (objects.some((o) => o === null)) return null;
    return { ...out, kind: 'two', form, objects: objects as MentionedObject[] };
  }
  return null;
}
