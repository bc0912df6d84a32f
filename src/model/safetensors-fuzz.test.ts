/**
 * Fuzz: mutated, truncated and random safetensors files. Each either opens, and then every tensor's
 * read() and readFloat32() returns or throws a SafetensorsError, or open refuses it with a
 * SafetensorsError; never another error, and nothing read is larger than the file. Sizes are
 * bounded, so a hang would show as the test never finishing (no timing is asserted).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteMutation, mutate } from '../test/byte-mutations';
import { DTYPE_BYTES, f32ToBf16, f32ToF16, type SafetensorsTensor } from './safetensors-dtypes';
import { SafetensorsError, SafetensorsFile } from './safetensors-reader';
import { writeSafetensors } from './safetensors-writer';

const f32 = (...v: number[]) => new Float32Array(v);

/** Small valid files: every dtype, empty and scalar tensors, Object.prototype names, metadata. */
const BASES: Uint8Array[] = [
  writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: f32(1, 2, 3, 4) } }),
  writeSafetensors(
    {
      'a.weight': { dtype: 'F16', shape: [3], data: f32ToF16(f32(1, -2, 0.5)) },
      'b.bias': { dtype: 'BF16', shape: [1, 2], data: f32ToBf16(f32(3, 4)) },
      ids: { dtype: 'I64', shape: [2], data: new BigInt64Array([49406n, -7n]) },
      empty: { dtype: 'F32', shape: [0, 4], data: f32() },
      scalar: { dtype: 'F32', shape: [], data: f32(7) },
    },
    { format: 'pt', note: 'héllo' },
  ),
  writeSafetensors(
    Object.fromEntries(['__proto__', 'constructor', 'toString'].map((name, i): [string, SafetensorsTensor] => [name, { dtype: 'F32', shape: [1], data: f32(i) }])),
    Object.fromEntries([['__proto__', 'p'], ['hasOwnProperty', 'h']]),
  ),
  writeSafetensors({ '<token>': { dtype: 'F32', shape: [2, 4], data: new Float32Array(8).fill(0.25) } }, { 'studio.token': '<token>' }),
];

const headerLength = (file: Uint8Array) => Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
const headerText = (file: Uint8Array) => new TextDecoder().decode(file.subarray(8, 8 + headerLength(file)));
const dataOf = (file: Uint8Array) => file.subarray(8 + headerLength(file));

/** A file from header bytes and data; the length prefix is the header's unless `length` says. */
function assemble(header: Uint8Array | string, data: Uint8Array, length?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const JSON_BYTES = [...'{}[]":, \\-0123456789.eE'].map((c) => c.charCodeAt(0));
const mutation = byteMutation([0, 0x0a, 0x7f, 0x80, 0xff, ...JSON_BYTES]);


/** Length prefixes that lie: off by a little (`by`), or zero, past the file, past 2^53 and 2^63 (`set`). */
const lyingLength: fc.Arbitrary<{ by: number } | { set: bigint }> = fc.oneof(
  fc.integer({ min: -16, max: 16 }).map((by) => ({ by })),
  fc.constantFrom(0n, 1n, 2n, 16n * 1024n * 1024n, 16n * 1024n * 1024n + 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n).map((set) => ({ set })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((set) => ({ set })),
);

/** Values a field may be replaced with: wrong types, edges of the integers, offsets near the truth. */
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0, 1, 1.5, 2 ** 53, 2 ** 53 + 2, 2 ** 60, '4', null, true, [], [0], [0, 0], [0, 0, 0], [0, 2 ** 60], [-1, 4], [4, 0], 'F32', 'F16', 'BF16', 'I64', 'F64', 'toString', '__proto__'),
  fc.array(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom(2 ** 26, 2 ** 40, 2 ** 53)), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const NAMES = ['__metadata__', '__proto__', 'constructor', 'w', 'a.weight', '', 'x'.repeat(300)];
const FIELDS = ['dtype', 'shape', 'data_offsets', 'extra'];

type Entries = [string, unknown][];
/** The header as ordered entries (so `__proto__` stays a key), and back to JSON text. */
const entriesOf = (text: string): Entries => Object.entries(JSON.parse(text) as Record<string, unknown>);
const toJson = (value: unknown): string =>
  Array.isArray(value) || value === null || typeof value !== 'object'
    ? JSON.stringify(value)
    : `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
const headerJson = (entries: Entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;

type Edit =
  | { kind: 'field'; tensor: number; field: string; value: unknown }
  | { kind: 'shift'; tensor: number; which: 0 | 1; by: number }
  | { kind: 'remove'; tensor: number; field: string | null }
  | { kind: 'rename'; tensor: number; name: string }
  | { kind: 'duplicate'; tensor: number }
  | { kind: 'swap'; a: number; b: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('field' as const), tensor: fc.nat(), field: fc.constantFrom(...FIELDS), value: nastyValue }),
  fc.record({ kind: fc.constant('shift' as const), tensor: fc.nat(), which: fc.constantFrom(0 as const, 1 as const), by: fc.integer({ min: -9, max: 9 }) }),
  fc.record({ kind: fc.constant('remove' as const), tensor: fc.nat(), field: fc.option(fc.constantFrom(...FIELDS)) }),
  fc.record({ kind: fc.constant('rename' as const), tensor: fc.nat(), name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 8 })) }),
  fc.record({ kind: fc.constant('duplicate' as const), tensor: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
);

/** Edits a header's structure; a duplicate key is made in the text (objects cannot hold one). */
function applyEdits(text: string, edits: readonly Edit[]): string {
  const entries = entriesOf(text); // fresh objects, free to edit
  let duplicated: [string, unknown] | undefined;
  for (const e of edits) {
    if (entries.length === 0) break;
    const pick = (i: number) => entries[i % entries.length];
    const fields = (i: number) => {
      const value = pick(i)[1];
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    };
    if (e.kind === 'field') {
      const f = fields(e.tensor);
      if (f) f[e.field] = structuredClone(e.value); // a copy: a later shift must not edit the shared constant
    } else if (e.kind === 'shift') {
      const offsets = fields(e.tensor)?.data_offsets;
      if (Array.isArray(offsets) && typeof offsets[e.which] === 'number') offsets[e.which] += e.by;
    } else if (e.kind === 'remove') {
      const f = fields(e.tensor);
      if (e.field === null) entries.splice(e.tensor % entries.length, 1);
      else if (f) delete f[e.field];
    } else if (e.kind === 'rename') {
      pick(e.tensor)[0] = e.name;
    } else if (e.kind === 'duplicate') {
      duplicated = [...pick(e.tensor)];
    } else {
      const [a, b] = [pick(e.a), pick(e.b)];
      [a[1], b[1]] = [b[1], a[1]];
    }
  }
  const json = headerJson(entries);
  return duplicated && json.length > 2 ? `{${JSON.stringify(duplicated[0])}:${toJson(duplicated[1])},${json.slice(1)}` : json;
}

const TOKENS = ['{', '}', '[', ']', ':', ',', ' ', '"', '\\', '\\u00', '\n', '"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', '"__proto__"', '"F32"', '"F16"', '"I64"', '"x"', '0', '4', '8', '-1', '1e400', '9007199254740993', '1.5', 'true', 'null', '\u00e9', '\ufeff'];
const randomHeader = fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) }), { maxLength: 60 }).map((t) => t.join(''));

/** Tallies outcomes; any error other than a SafetensorsError fails the property. */
class Outcomes {
  runs = 0;
  opened = 0;
  tensorsRead = 0;
  largestHeader = 0;
  largestClaimed = 0n;
  readonly refused = new Map<string, number>();

  async record(bytes: Uint8Array, asBlob: boolean): Promise<void> {
    this.runs++;
    if (bytes.length >= 8) {
      const claimed = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
      if (claimed > this.largestClaimed) this.largestClaimed = claimed;
      if (claimed <= BigInt(bytes.length - 8)) this.largestHeader = Math.max(this.largestHeader, Number(claimed));
    }
    let file: SafetensorsFile;
    try {
      file = await SafetensorsFile.open(asBlob ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : bytes, 'fuzz.safetensors');
    } catch (e) {
      this.refuse(e);
      return;
    }
    this.opened++;
    expect(file.dataStart).toBeLessThanOrEqual(bytes.length);
    for (const name of file.names()) {
      const { dtype, dataOffsets } = file.info(name);
      expect(file.dataStart + dataOffsets[1]).toBeLessThanOrEqual(bytes.length);
      for (const read of [() => file.read(name), () => file.readFloat32(name)]) {
        try {
          const data = await read();
          // Never more elements than the file has bytes for.
          expect(data.length * DTYPE_BYTES[dtype]).toBeLessThanOrEqual(bytes.length);
          this.tensorsRead++;
        } catch (e) {
          this.refuse(e);
        }
      }
    }
  }

  private refuse(e: unknown): void {
    if (!(e instanceof SafetensorsError)) throw e;
    const problem = e.message.slice(e.message.indexOf(': ') + 2).replace(/^tensor '.*?': /s, '');
    const kind = KINDS.find(([, pattern]) => pattern.test(problem))?.[0] ?? 'other';
    this.refused.set(kind, (this.refused.get(kind) ?? 0) + 1);
  }
}

const KINDS: [string, RegExp][] = [
  ['truncated', /^file is truncated/],
  ['length', /^header length/],
  ['over 16 MiB', /^header of \d+ bytes/],
  ['utf-8', /not valid UTF-8/],
  ['json', /not valid JSON/],
  ['depth', /nests deeper/],
  ['duplicate', /duplicate key/],
  ['start', /does not start with/],
  ['padding', /after its JSON object/],
  ['metadata', /__metadata__/],
  ['entry', /^entry is not an object/],
  ['dtype', /dtype/],
  ['shape', /^shape/],
  ['offsets', /^data_offsets .* (are not two|end before|are out of range)/],
  ['size', /^size mismatch/],
  ['layout', /overlap|no holes/],
];

describe('fuzz: the safetensors reader opens or refuses with a SafetensorsError, never anything else', () => {
  const totals: Outcomes[] = [];
  const started = performance.now();
  const base = fc.integer({ min: 0, max: BASES.length - 1 });

  it('the bases open and read', async () => {
    const o = new Outcomes();
    for (const bytes of BASES) await o.record(bytes, false);
    expect(o.opened).toBe(BASES.length);
    expect([...o.refused.keys()]).toEqual(['dtype']); // readFloat32 of the I64 tensor
  });

  it('8,000 headers with bytes flipped, inserted and deleted, the length prefix fitted or kept', async () => {
    const o = new Outcomes();
    await fc.assert(
      fc.asyncProperty(base, fc.array(mutation, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.boolean(), async (i, ms, fitLength, asBlob) => {
        const header = mutate(BASES[i].subarray(8, 8 + headerLength(BASES[i])), ms);
        await o.record(assemble(header, dataOf(BASES[i]), fitLength ? undefined : BigInt(headerLength(BASES[i]))), asBlob);
      }),
      { numRuns: 8000 },
    );
    totals.push(o);
    expect(o.runs).toBe(8000);
    expect(o.opened).toBeGreaterThan(0); // some mutations (a changed digit or letter in a value) still open
  });

  it('4,000 whole files mutated, truncated or given a lying length prefix', async () => {
    const o = new Outcomes();
    await fc.assert(
      fc.asyncProperty(base, fc.array(mutation, { maxLength: 3 }), fc.option(lyingLength), fc.boolean(), async (i, ms, lie, asBlob) => {
        const bytes = mutate(BASES[i], ms);
        if (lie !== null && bytes.length >= 8) {
          const length = 'set' in lie ? lie.set : BigInt(Math.max(0, headerLength(BASES[i]) + lie.by));
          new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, length, true);
        }
        await o.record(bytes, asBlob);
      }),
      { numRuns: 4000 },
    );
    totals.push(o);
    expect(o.runs).toBe(4000);
  });

  it('4,000 headers edited as JSON: fields replaced, offsets shifted, keys removed, renamed, swapped and duplicated', async () => {
    const o = new Outcomes();
    await fc.assert(
      fc.asyncProperty(base, fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), async (i, edits, pad) => {
        const header = applyEdits(headerText(BASES[i]), edits);
        await o.record(assemble(pad ? header.padEnd(Math.ceil(header.length / 8) * 8) : header, dataOf(BASES[i])), false);
      }),
      { numRuns: 4000 },
    );
    totals.push(o);
    expect(o.runs).toBe(4000);
    expect(o.opened).toBeGreaterThan(0);
    expect(o.refused.get('layout')).toBeGreaterThan(0);
  });

  it('3,000 random JSON-ish headers with random data', async () => {
    const o = new Outcomes();
    await fc.assert(
      fc.asyncProperty(randomHeader, fc.integer({ min: 0, max: 64 }), async (header, dataLength) => {
        await o.record(assemble(header, new Uint8Array(dataLength)), false);
      }),
      { numRuns: 3000 },
    );
    totals.push(o);
    expect(o.runs).toBe(3000);
  });

  it('1,000 valid headers with up to 5,000 levels of nesting inserted: as an array item, an object member, or anywhere', async () => {
    const o = new Outcomes();
    const opener = fc.constantFrom('[', '{"a":', '[[', '{"shape":');
    const place = fc.constantFrom('item', 'member', 'anywhere');
    await fc.assert(
      fc.asyncProperty(base, fc.nat(), place, opener, fc.integer({ min: 1, max: 5000 }), fc.boolean(), async (i, at, where, open, depth, close) => {
        const text = headerText(BASES[i]).trimEnd();
        const closing = open.startsWith('{') ? '}' : ']'.repeat(open.length);
        const nest = open.repeat(depth) + '0' + (close ? closing.repeat(depth) : '');
        // After a '[' (shape, data_offsets) the nest is the first item; after a '{' the first member.
        const starts = [...text.matchAll(where === 'item' ? /\[(?=[^\]])/g : /\{/g)].map((m) => m.index + 1);
        const cut = where === 'anywhere' || starts.length === 0 ? at % text.length : starts[at % starts.length];
        const insert = where === 'item' ? `${nest},` : where === 'member' ? `"n":${nest},` : nest;
        await o.record(assemble(text.slice(0, cut) + insert + text.slice(cut), dataOf(BASES[i])), false);
      }),
      { numRuns: 1000 },
    );
    totals.push(o);
    expect(o.runs).toBe(1000);
    expect(o.refused.get('depth')).toBeGreaterThan(0);
  });

  it('300 headers with a long value, name or padding (up to 1 MiB)', async () => {
    const o = new Outcomes();
    const where = fc.constantFrom('metadata value', 'metadata key', 'tensor name', 'dtype', 'padding', 'shape');
    await fc.assert(
      fc.asyncProperty(base, where, fc.integer({ min: 1, max: 1 << 20 }), fc.constantFrom('x', ' ', '\\n', '1,', '9'), async (i, place, n, unit) => {
        const long = unit.repeat(Math.ceil(n / unit.length));
        const text = headerText(BASES[i]).trimEnd();
        const header =
          place === 'metadata value' ? `{"__metadata__":{"k":"${long}"},${text.slice(1)}`
          : place === 'metadata key' ? `{"__metadata__":{"${long}":"v"},${text.slice(1)}`
          : place === 'tensor name' ? `{"${long}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},${text.slice(1)}`
          : place === 'dtype' ? text.replace(/"dtype":"[^"]*"/, `"dtype":"${long}"`)
          : place === 'shape' ? text.replace(/"shape":\[/, `"shape":[${long}`)
          : text + long;
        await o.record(assemble(header, dataOf(BASES[i])), false);
      }),
      { numRuns: 300 },
    );
    totals.push(o);
    expect(o.runs).toBe(300);
  });

  it('ran at least 20,000 inputs', () => {
    const sum = (key: 'runs' | 'opened' | 'tensorsRead') => totals.reduce((n, o) => n + o[key], 0);
    const refused: Record<string, number> = {};
    for (const o of totals) for (const [kind, n] of o.refused) refused[kind] = (refused[kind] ?? 0) + n;
    const largest = Math.max(...totals.map((o) => o.largestHeader));
    const claimed = totals.reduce((m, o) => (o.largestClaimed > m ? o.largestClaimed : m), 0n);
    console.log(
      `fuzz: ${sum('runs')} files, ${sum('opened')} opened (${sum('tensorsRead')} tensor reads), refused ${JSON.stringify(refused)}; ` +
        `largest header ${largest} bytes, largest length prefix ${claimed}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(sum('runs')).toBeGreaterThanOrEqual(20_000);
  });
});
