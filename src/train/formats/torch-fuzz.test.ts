/**
 * Fuzz: mutated, truncated and random pickles and torch.save zips. Every input either reads or is
 * refused with the reader's own FormatError, never another error; sizes are bounded, so a hang
 * would show as the test never finishing (no timing is asserted).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteMutation, mutate } from '../../test/byte-mutations';
import { FormatError } from './errors';
import { unpickle } from './pickle';
import { readTorchEmbedding } from './torch-embedding';
import { a1111Embedding, Dict, ParameterDict, Storage, Tensor, Tuple, storedZip, torchSaveRecords, type Py, type ZipRecord } from './torch-file.testing';

const DIM = 4;
const f16Bits = (n: number) => Array.from({ length: n }, (_, i) => 0x3c00 + i * 0x40); // 1, 1.0625, …

/** Small torch.save files of each layout (width 4, so the tensor paths are reached quickly). */
const BASES: Py[] = [
  a1111Embedding(Tensor.contiguous(Storage.f32([1, 2, 3, 4, 5, 6, 7, 8]), [2, DIM], { requiresGrad: true })),
  a1111Embedding(new Tensor(Storage.bits16('F16', f16Bits(12)), 1, [2, DIM], [1, 3])),
  a1111Embedding(new ParameterDict([['*', Tensor.contiguous(Storage.bits16('BF16', f16Bits(4)), [1, DIM], { parameter: true })]])),
  new Dict([['<t>', Tensor.contiguous(new Storage('F64', new Uint8Array(Float64Array.from([0.5, 1, 2, 4]).buffer)), [DIM])]]),
  new Dict([
    ['a.lora_down.weight', Tensor.contiguous(Storage.f32([1, 2, 3, 4]), [2, 2])],
    ['a.lora_up.weight', Tensor.contiguous(Storage.f32([1, 2, 3, 4]), [2, 2])],
    ['a.alpha', new Tuple([1, 2, 3, 4])],
  ]),
];
const BASE_RECORDS = BASES.map((obj) => torchSaveRecords(obj));
const BASE_ZIPS = BASE_RECORDS.map(storedZip);

const mutation = byteMutation([0, 1, 0x7f, 0x80, 0xff]);


const OPCODES = [
  0x80, 0x95, 0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x49, 0x4c, 0x4a, 0x4b, 0x4d, 0x8a, 0x8b, 0x46, 0x47, 0x54, 0x55, 0x58, 0x8c, 0x8d, 0x56, 0x42, 0x43,
  0x8e, 0x96, 0x7d, 0x5d, 0x29, 0x8f, 0x74, 0x85, 0x86, 0x87, 0x6c, 0x64, 0x91, 0x61, 0x65, 0x73, 0x75, 0x90, 0x67, 0x68, 0x6a, 0x70, 0x71, 0x72, 0x94, 0x63,
  0x93, 0x69, 0x6f, 0x82, 0x52, 0x81, 0x92, 0x62, 0x51, 0x50, 0x53, 0x97, 0x98,
];
const text = (s: string) => [...new TextEncoder().encode(s)];
const short = (s: string) => [0x8c, s.length, ...text(s)];
/** Whole fragments that reach the allow-listed callables and the storage path. */
const FRAGMENTS: number[][] = [
  [0x63, ...text('torch._utils\n_rebuild_tensor_v2\n')],
  [0x63, ...text('torch._utils\n_rebuild_parameter\n')],
  [0x63, ...text('collections\nOrderedDict\n')],
  [0x63, ...text('torch.nn.modules.container\nParameterDict\n')],
  [0x63, ...text('__builtin__\nset\n')],
  [0x28, ...short('storage'), 0x63, ...text('torch\nFloatStorage\n'), ...short('0'), ...short('cpu'), 0x4b, 8, 0x74, 0x51],
  [0x28, ...short('storage'), 0x63, ...text('torch\nHalfStorage\n'), ...short('0'), ...short('cpu'), 0x4b, 4, 0x74, 0x51],
  [0x4b, 0, 0x4b, 2, 0x4b, 4, 0x86, 0x4b, 4, 0x4b, 1, 0x86, 0x89, 0x29],
  [...short('string_to_param')],
  [...short('*')],
];
const token: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...OPCODES), fc.uint8Array({ maxLength: 6 })).map(([op, operand]) => [op, ...operand]) },
  { weight: 2, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => [b]) },
);
const randomPickle = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.array(token, { maxLength: 40 })).map(([protocol, tokens]) => Uint8Array.from([0x80, protocol, ...tokens.flat(), 0x2e]));

const withPickle = (records: ZipRecord[], pickle: Uint8Array) => storedZip(records.map((r) => (r.name.endsWith('/data.pkl') ? { ...r, data: pickle } : r)));

/** Tallies outcomes; any error other than the reader's own FormatError fails the property. */
class Outcomes {
  runs = 0;
  read = 0;
  readonly refused = new Map<string, number>();
  record(f: () => unknown): void {
    this.runs++;
    try {
      f();
      this.read++;
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      this.refused.set(e.reason, (this.refused.get(e.reason) ?? 0) + 1);
    }
  }
  async recordAsync(f: () => Promise<{ vectors: Float32Array; nVectors: number; dim: number }>): Promise<void> {
    this.runs++;
    try {
      const e = await f();
      expect(e.vectors.length).toBe(e.nVectors * e.dim);
      expect(e.vectors.every(Number.isFinite)).toBe(true);
      this.read++;
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      this.refused.set(e.reason, (this.refused.get(e.reason) ?? 0) + 1);
    }
  }
}

describe('fuzz: the torch reader reads or refuses with a FormatError, never anything else', () => {
  const totals: Outcomes[] = [];
  const started = performance.now();

  it('the unmutated bases read (embeddings) or are refused as what they are', async () => {
    const outcomes = BASE_ZIPS.map((zip) => readTorchEmbedding(zip, 'base.pt', DIM).then((e) => e.layout, (e: FormatError) => e.reason));
    expect(await Promise.all(outcomes)).toEqual(['a1111-pt', 'a1111-pt', 'a1111-pt', 'diffusers-bin', 'pickle']);
  });

  it('8,000 mutated data.pkl pickles, in valid zips', async () => {
    const o = new Outcomes();
    const base = fc.integer({ min: 0, max: BASE_RECORDS.length - 1 });
    await fc.assert(
      fc.asyncProperty(base, fc.array(mutation, { minLength: 1, maxLength: 6 }), async (i, ms) => {
        const records = BASE_RECORDS[i];
        const pickle = mutate(records[0].data, ms);
        await o.recordAsync(() => readTorchEmbedding(withPickle(records, pickle), 'fuzz.pt', DIM));
      }),
      { numRuns: 8000 },
    );
    totals.push(o);
    expect(o.runs).toBe(8000);
    expect(o.read).toBeGreaterThan(0); // some mutations keep a readable embedding
  });

  it('5,000 mutated and truncated torch.save zips', async () => {
    const o = new Outcomes();
    const base = fc.integer({ min: 0, max: BASE_ZIPS.length - 1 });
    await fc.assert(
      fc.asyncProperty(base, fc.array(mutation, { minLength: 1, maxLength: 4 }), async (i, ms) => {
        await o.recordAsync(() => readTorchEmbedding(mutate(BASE_ZIPS[i], ms), 'fuzz.pt', DIM));
      }),
      { numRuns: 5000 },
    );
    totals.push(o);
    expect(o.runs).toBe(5000);
  });

  it('6,000 random opcode sequences, unpickled, and 1,000 of them in zips', async () => {
    const o = new Outcomes();
    fc.assert(
      fc.property(randomPickle, (bytes) => o.record(() => unpickle(bytes, 'fuzz.pkl'))),
      { numRuns: 6000 },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: BASE_RECORDS.length - 1 }), randomPickle, async (i, pickle) => {
        await o.recordAsync(() => readTorchEmbedding(withPickle(BASE_RECORDS[i], pickle), 'fuzz.pt', DIM));
      }),
      { numRuns: 1000 },
    );
    totals.push(o);
    expect(o.runs).toBe(7000);
  });

  it('2,000 random byte strings, as pickles and as zips', async () => {
    const o = new Outcomes();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => o.record(() => unpickle(bytes, 'fuzz.pkl'))),
      { numRuns: 1000 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await o.recordAsync(() => readTorchEmbedding(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...bytes]), 'fuzz.pt', DIM));
      }),
      { numRuns: 1000 },
    );
    totals.push(o);
    expect(o.runs).toBe(2000);
  });

  it('ran at least 20,000 inputs', () => {
    const runs = totals.reduce((n, o) => n + o.runs, 0);
    const read = totals.reduce((n, o) => n + o.read, 0);
    const refused: Record<string, number> = {};
    for (const o of totals) for (const [reason, n] of o.refused) refused[reason] = (refused[reason] ?? 0) + n;
    console.log(`fuzz: ${runs} inputs, ${read} read, refused ${JSON.stringify(refused)}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(runs).toBeGreaterThanOrEqual(20_000);
  });
});
