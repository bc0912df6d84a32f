/**
 * The caption grammar and the sampler: all 200 recorded captions parse to their recorded
 * attributes, and 5,000 draws keep the vocabulary, the probabilities of world.md (within 4
 * standard errors), the colour rule and the geometry.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../common/random';
import { article, HELD_OUT_WORDS, parseCaption, POSITION_CENTRES, PREFIXES, PROBABILITIES, sampleExample, SIZE_RADIUS, TRAINING_WORDS, TWO_OBJECT_CENTRES, type Example } from './captions';
import { readRecords } from './fixtures.testing';
import { colorDistance, COLORS } from './palette';
import { SHAPE_NAMES } from './shapes';

const records = readRecords();

/** |observed - p| within 4 standard errors of a proportion over n. */
function expectRate(hits: number, n: number, p: number, what: string) {
  expect(Math.abs(hits / n - p), `${what}: ${hits}/${n} vs ${p}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
}

describe('vocabulary', () => {
  it('40 training words, none of them held out; articles by the vowel rule', () => {
    expect(TRAINING_WORDS).toHaveLength(40);
    expect(new Set(TRAINING_WORDS).size).toBe(40);
    expect(HELD_OUT_WORDS.filter((w) => TRAINING_WORDS.includes(w))).toEqual([]);
    expect([article('orange'), article('red'), article('image'), article('large')]).toEqual(['an', 'a', 'an', 'a']);
  });
});

describe('parseCaption', () => {
  it('reads every recorded caption back to its recorded attributes', () => {
    const forms = new Set<string>();
    for (const record of records) {
      const parsed = parseCaption(record.caption);
      expect(parsed, record.caption).not.toBeNull();
      expect(parsed!.kind).toBe(record.kind);
      expect(parsed!.objects).toHaveLength(record.objects.length);
      parsed!.objects.forEach((o, i) => {
        const want = record.objects[i];
        expect(o.shape).toBe(want.shape);
        if (o.color) expect(o.color).toBe(want.color);
        if (o.size) expect(o.size).toBe(want.size);
        if (o.position) expect(o.position).toBe(want.position);
        if (record.kind === 'two') expect(o.color, record.caption).toBe(want.color);
      });
      if (parsed!.background) expect(parsed!.background).toBe(record.bg);
      forms.add(`${parsed!.kind}:${parsed!.form ?? ''}:${parsed!.backgroundForm ?? ''}`);
    }
    // Every form of the grammar occurs among the 200.
    for (const form of ['one::', 'one::on', 'one::comma', 'two:and:', 'two:left-right:', 'two:next-to:']) expect([...forms], form).toContain(form);
  });

  it('the recorded captions mention attributes at world.md\'s rates (within 4 standard errors of 200)', () => {
    const parsed = records.map((r) => parseCaption(r.caption)!);
    const ones = parsed.filter((p) => p.kind === 'one');
    expectRate(records.length - ones.length, records.length, PROBABILITIES.twoObjects, 'two objects');
    expectRate(ones.filter((p) => p.objects[0].size).length, ones.length, PROBABILITIES.size, 'size mentioned');
    expectRate(ones.filter((p) => p.objects[0].color).length, ones.length, PROBABILITIES.color, 'colour mentioned');
    expectRate(ones.filter((p) => p.objects[0].position).length, ones.length, PROBABILITIES.position, 'position mentioned');
    expectRate(parsed.filter((p) => p.background).length, records.length, PROBABILITIES.background, 'background mentioned');
  });

  it('reads the examples of world.md and refuses wrong articles and unknown words', () => {
    expect(parseCaption('a large red circle on the left on a blue background')).toEqual({
      prefix: '',
      kind: 'one',
      objects: [{ shape: 'circle', size: 'large', color: 'red', position: 'left' }],
      background: 'blue',
      backgroundForm: 'on',
    });
    expect(parseCaption('a photo of a small yellow star at the top, gray background')?.objects).toEqual([{ shape: 'star', size: 'small', color: 'yellow', position: 'top' }]);
    expect(parseCaption('a red square and a blue triangle')).toEqual({ prefix: '', kind: 'two', form: 'and', objects: [{ shape: 'square', color: 'red' }, { shape: 'triangle', color: 'blue' }] });
    expect(parseCaption('an image of a purple heart')).toEqual({ prefix: 'an image of ', kind: 'one', objects: [{ shape: 'heart', color: 'purple' }] });
    expect(parseCaption('an orange star on an orange background')?.background).toBe('orange');
    for (const bad of ['a orange star', 'an red circle', 'a teal heart', 'a red crescent', 'a red circle on a orange background', 'a red circle next to a star', 'red circle']) {
      expect(parseCaption(bad), bad).toBeNull();
    }
  });
});

describe('recorded geometry', () => {
  it('radii are the size radius +- 1 and centres the position centre +- 2, as the sampler draws them', () => {
    for (const record of records) {
      record.objects.forEach((o, i) => {
        const [px, py] = record.kind === 'two' ? TWO_OBJECT_CENTRES[i] : POSITION_CENTRES[o.position];
        expect(Math.abs(o.r - SIZE_RADIUS[o.size])).toBeLessThanOrEqual(1.0005);
        expect(Math.max(Math.abs(o.cx - px), Math.abs(o.cy - py))).toBeLessThanOrEqual(2.0005);
        if (record.kind === 'two') expect([o.size, o.position]).toEqual(['small', i === 0 ? 'left' : 'right']);
      });
    }
  });
});

describe('sampleExample', () => {
  const N = 5000;
  const rng = new SeededRng(2024);
  const examples: Example[] = Array.from({ length: N }, () => sampleExample(rng));

  it('uses only the 40 training words, all of them', () => {
    const used = new Set(examples.flatMap((e) => e.caption.replace(',', '').split(' ')));
    expect([...used].filter((w) => !TRAINING_WORDS.includes(w))).toEqual([]);
    expect(used.size).toBe(40);
  });

  it('each caption parses to the drawn attributes', () => {
    for (const e of examples) {
      const parsed = parseCaption(e.caption);
      expect(parsed, e.caption).not.toBeNull();
      expect(parsed!.kind).toBe(e.kind);
      parsed!.objects.forEach((o, i) => {
        const drawn = e.objects[i];
        expect({ ...drawn, ...o }, e.caption).toEqual(drawn);
      });
      if (parsed!.background) expect(parsed!.background).toBe(e.background);
    }
  });

  it('keeps world.md\'s probabilities', () => {
    const parsed = examples.map((e) => ({ e, p: parseCaption(e.caption)! }));
    const ones = parsed.filter(({ e }) => e.kind === 'one');
    const twos = parsed.filter(({ e }) => e.kind === 'two');
    expectRate(twos.length, N, PROBABILITIES.twoObjects, 'two objects');
    expectRate(ones.filter(({ p }) => p.objects[0].size).length, ones.length, PROBABILITIES.size, 'size mentioned');
    expectRate(ones.filter(({ p }) => p.objects[0].color).length, ones.length, PROBABILITIES.color, 'colour mentioned');
    expectRate(ones.filter(({ p }) => p.objects[0].position).length, ones.length, PROBABILITIES.position, 'position mentioned');
    expectRate(parsed.filter(({ p }) => p.background).length, N, PROBABILITIES.background, 'background mentioned');
    const withBg = parsed.filter(({ p }) => p.background);
    expectRate(withBg.filter(({ p }) => p.backgroundForm === 'on').length, withBg.length, 0.5, '" on a <bg> background" form');
    for (const form of ['and', 'left-right', 'next-to']) expectRate(twos.filter(({ p }) => p.form === form).length, twos.length, 1 / 3, form);
    for (const prefix of new Set(PREFIXES)) expectRate(parsed.filter(({ p }) => p.prefix === prefix).length, N, PREFIXES.filter((q) => q === prefix).length / 6, `prefix "${prefix}"`);
    for (const shape of SHAPE_NAMES) expectRate(ones.filter(({ e }) => e.objects[0].shape === shape).length, ones.length, 1 / 8, shape);
    expectRate(ones.filter(({ e }) => e.objects[0].size === 'large').length, ones.length, 0.5, 'large');
    expectRate(ones.filter(({ e }) => e.objects[0].position === 'center').length, ones.length, 0.2, 'center');
    expectRate(parsed.filter(({ e }) => e.background === 'gray').length, N, 0.1, 'gray background');
  });

  it('object colours lie >= 100 from the background; scene geometry follows the drawn attributes', () => {
    for (const e of examples) {
      expect(e.scene.background).toEqual(COLORS[e.background]);
      expect(e.scene.objects).toHaveLength(e.kind === 'two' ? 2 : 1);
      e.scene.objects.forEach((o, i) => {
        const drawn = e.objects[i];
        expect(colorDistance(o.color, e.scene.background)).toBeGreaterThanOrEqual(100);
        expect(o.color).toEqual(COLORS[drawn.color]);
        expect(o.shape).toBe(drawn.shape);
        expect(Math.abs(o.r - SIZE_RADIUS[drawn.size])).toBeLessThanOrEqual(1);
        const [px, py] = e.kind === 'two' ? TWO_OBJECT_CENTRES[i] : POSITION_CENTRES[drawn.position];
        expect(Math.max(Math.abs(o.cx - px), Math.abs(o.cy - py))).toBeLessThanOrEqual(2);
      });
      if (e.kind === 'two') expect(e.objects.map((o) => [o.size, o.position])).toEqual([['small', 'left'], ['small', 'right']]);
    }
  });
});
