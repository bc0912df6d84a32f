/** For fuzz tests (fast-check): edits of a byte string (set, insert, delete, truncate) and applying them. */
import fc from 'fast-check';

export type Mutation = { kind: 'set'; at: number; value: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'delete'; at: number; length: number } | { kind: 'truncate'; at: number };

/** One edit; `special` bytes are set and inserted more often than chance would (a format's syntax, limits). */
export function byteMutation(special: readonly number[]): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...special)) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.array(fc.constantFrom(...special), { minLength: 1, maxLength: 8 }).map((b) => Uint8Array.from(b))) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  );
}

/** `bytes` with the edits applied in order (positions taken modulo the current length). */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'set' && out.length > 0) out[at] = m.value;
    else if (m.kind === 'insert') out = Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)]);
    else if (m.kind === 'delete') out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + m.length)]);
    else if (m.kind === 'truncate') out = out.slice(0, at);
  }
  return out;
}
