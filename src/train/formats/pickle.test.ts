import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatRefusal } from '../../test/import-refusals';
import { unpickle } from './pickle';
import { PyDict, PyGlobal, PySet, PyTuple, StorageRef, TensorRef, type PickleValue } from './pickle-values';
import { a1111Embedding, ParameterDict, Storage, Tensor, torchPickle } from './torch-file.testing';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Pickle bytes from numbers (single bytes) and strings (latin-1 text). */
function p(...parts: (number | string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else if (typeof part === 'string') for (const c of part) out.push(c.charCodeAt(0));
    else for (const b of part) out.push(b);
  }
  return Uint8Array.from(out);
}
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const binunicode = (s: string) => ['X', u32(s.length), s] as const;

const refusal = (bytes: Uint8Array) => formatRefusal(() => unpickle(bytes, 'test.pkl'));

function dict(v: PickleValue): PyDict {
  expect(v).toBeInstanceOf(PyDict);
  return v as PyDict;
}

// Captured from CPython 3.11's pickler (protocol 2, torch.save's) with stand-in torch modules whose
// functions and classes carry torch's names, and torch.save's persistent_id.
const CPYTHON_A1111 =
  'gAJ9cQAoWA8AAABzdHJpbmdfdG9fdG9rZW5xAX1xAlgBAAAAKnEDTQkBc1gPAAAAc3RyaW5nX3RvX3BhcmFtcQR9cQVoA2N0b3JjaC5fdXRpbHMKX3JlYnVpbGRfdGVuc29yX3YyCnEGKChYBwAAAHN0b3JhZ2VxB2N0b3JjaApGbG9hdFN0b3JhZ2UKcQhYAQAAADBxCVgDAAAAY3B1cQpNAAZ0cQtRSwBLAk0AA4ZxDE0AA0sBhnENiGNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxDilScQ90cRBScRFzWAQAAABuYW1lcRJYBQAAAGtpdHR5cRNYBAAAAHN0ZXBxFE24C1gNAAAAc2RfY2hlY2twb2ludHEVWAoAAAA0Yzg2ZWZkMDYycRZYEgAAAHNkX2NoZWNrcG9pbnRfbmFtZXEXWBMAAAB2MS01LXBydW5lZC1lbWFvbmx5cRh1Lg==';
const CPYTHON_PARAMETER_DICT =
  'gAJ9cQAoWA8AAABzdHJpbmdfdG9fdG9rZW5xAX1xAlgBAAAAKnEDTQkBc1gPAAAAc3RyaW5nX3RvX3BhcmFtcQRjdG9yY2gubm4ubW9kdWxlcy5jb250YWluZXIKUGFyYW1ldGVyRGljdApxBSmBcQZ9cQcoWAgAAAB0cmFpbmluZ3EIiFgLAAAAX3BhcmFtZXRlcnNxCWNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxCilScQtoA2N0b3JjaC5fdXRpbHMKX3JlYnVpbGRfcGFyYW1ldGVyCnEMY3RvcmNoLl91dGlscwpfcmVidWlsZF90ZW5zb3JfdjIKcQ0oKFgHAAAAc3RvcmFnZXEOY3RvcmNoCkZsb2F0U3RvcmFnZQpxD1gBAAAAMHEQWAMAAABjcHVxEU0AA3RxElFLAEsBTQADhnETTQADSwGGcRSJaAopUnEVdHEWUnEXiGgKKVJxGIdxGVJxGnNYCAAAAF9idWZmZXJzcRtoCilScRxYGwAAAF9ub25fcGVyc2lzdGVudF9idWZmZXJzX3NldHEdY19fYnVpbHRpbl9fCnNldApxHl1xH4VxIFJxIVgTAAAAX2JhY2t3YXJkX3ByZV9ob29rc3EiaAopUnEjWA8AAABfYmFja3dhcmRfaG9va3NxJGgKKVJxJVgWAAAAX2lzX2Z1bGxfYmFja3dhcmRfaG9va3EmTlgOAAAAX2ZvcndhcmRfaG9va3NxJ2gKKVJxKFgaAAAAX2ZvcndhcmRfaG9va3Nfd2l0aF9rd2FyZ3NxKWgKKVJxKlgcAAAAX2ZvcndhcmRfaG9va3NfYWx3YXlzX2NhbGxlZHEraAopUnEsWBIAAABfZm9yd2FyZF9wcmVfaG9va3NxLWgKKVJxLlgeAAAAX2ZvcndhcmRfcHJlX2hvb2tzX3dpdGhfa3dhcmdzcS9oCilScTBYEQAAAF9zdGF0ZV9kaWN0X2hvb2tzcTFoCilScTJYFQAAAF9zdGF0ZV9kaWN0X3ByZV9ob29rc3EzaAopUnE0WBoAAABfbG9hZF9zdGF0ZV9kaWN0X3ByZV9ob29rc3E1aAopUnE2WBsAAABfbG9hZF9zdGF0ZV9kaWN0X3Bvc3RfaG9va3NxN2gKKVJxOFgIAAAAX21vZHVsZXNxOWgKKVJxOlgFAAAAX2tleXNxO31xPGgDTnN1YlgEAAAAbmFtZXE9WAYAAABteS1jYXRxPlgEAAAAc3RlcHE/TbgLWA0AAABzZF9jaGVja3BvaW50cUBYCgAAADRjODZlZmQwNjJxQVgSAAAAc2RfY2hlY2twb2ludF9uYW1lcUJYEwAAAHYxLTUtcHJ1bmVkLWVtYW9ubHlxQ3Uu';
// pickle.dumps of one dict of plain values, protocols 0, 1, 4 and 5 (CPython 3.11); protocols 0 and 1 hold no bytes or frozenset.
const CPYTHON_PLAIN: Record<number, string> = {
  0: 'KGRwMApWX19wcm90b19fCnAxCkkxCnNWaW50cwpwMgoobHAzCkkwCmFJMjU1CmFJMjU2CmFJNjU1MzYKYUktMQphTDIxNDc0ODM2NDhMCmFMLTkyMjMzNzIwMzY4NTQ3NzU4MDhMCmFMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKYXNWZgpwNAoobHA1CkYxLjUKYUYtMC4wCmFGaW5mCmFzVnMKcDYKY19fYnVpbHRpbl9fCnNldApwNwooKGxwOApJMwphdHA5ClJwMTAKc1Z0CnAxMQooSTEKVngKcDEyCnRwMTMKc1Z1CnAxNApWaOlsbG9cdTAwMGFcdTAwNWMKcDE1CnNWbgpwMTYKTnNWdGYKcDE3CihscDE4CkkwMQphSTAwCmFzVm9kCnAxOQpjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcDIwCih0UnAyMQpWYQpwMjIKSTEKc3NWc2FtZQpwMjMKKGxwMjQKKGxwMjUKVnNoYXJlZApwMjYKYWFnMjUKYXMu',
  1: 'fXEAKFgJAAAAX19wcm90b19fcQFLAVgEAAAAaW50c3ECXXEDKEsAS/9NAAFKAAABAEr/////TDIxNDc0ODM2NDhMCkwtOTIyMzM3MjAzNjg1NDc3NTgwOEwKTDExODA1OTE2MjA3MTc0MTEzMDM0MjRMCmVYAQAAAGZxBF1xBShHP/gAAAAAAABHgAAAAAAAAABHf/AAAAAAAABlWAEAAABzcQZjX19idWlsdGluX18Kc2V0CnEHKF1xCEsDYXRxCVJxClgBAAAAdHELKEsBWAEAAAB4cQx0cQ1YAQAAAHVxDlgIAAAAaMOpbGxvClxxD1gBAAAAbnEQTlgCAAAAdGZxEV1xEihJMDEKSTAwCmVYAgAAAG9kcRNjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcRQpUnEVWAEAAABhcRZLAXNYBAAAAHNhbWVxF11xGChdcRlYBgAAAHNoYXJlZHEaYWgZZXUu',
  4: 'gASV+gAAAAAAAAB9lCiMCV9fcHJvdG9fX5RLAYwEaW50c5RdlChLAEv/TQABSgAAAQBK/////4oFAAAAgACKCAAAAAAAAACAigkAAAAAAAAAAEBljAFmlF2UKEc/+AAAAAAAAEeAAAAAAAAAAEd/8AAAAAAAAGWMAWKUQwIAAZSMAXOUj5QoSwOQjAJmc5QoSwSRlIwBdJRLAYwBeJSGlIwBdZSMBmjDqWxsb5SMAW6UTowCdGaUXZQoiIlljAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpSMAWGUSwFzjARzYW1llF2UKF2UjAZzaGFyZWSUYWgcZXUu',
  5: 'gAWV+gAAAAAAAAB9lCiMCV9fcHJvdG9fX5RLAYwEaW50c5RdlChLAEv/TQABSgAAAQBK/////4oFAAAAgACKCAAAAAAAAACAigkAAAAAAAAAAEBljAFmlF2UKEc/+AAAAAAAAEeAAAAAAAAAAEd/8AAAAAAAAGWMAWKUQwIAAZSMAXOUj5QoSwOQjAJmc5QoSwSRlIwBdJRLAYwBeJSGlIwBdZSMBmjDqWxsb5SMAW6UTowCdGaUXZQoiIlljAJvZJSMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpSMAWGUSwFzjARzYW1llF2UKF2UjAZzaGFyZWSUYWgcZXUu',
};

describe('pickle reader: what CPython writes', () => {
  it('the test helper writes byte for byte what CPython writes for A1111’s dict and a ParameterDict', () => {
    const storage = Storage.f32(new Float32Array(2 * 768));
    expect(torchPickle(a1111Embedding(Tensor.contiguous(storage, [2, 768], { requiresGrad: true }), { name: 'kitty' })).pickle).toEqual(b64(CPYTHON_A1111));
    const param = Tensor.contiguous(Storage.f32(new Float32Array(768)), [1, 768], { parameter: true, requiresGrad: true });
    expect(torchPickle(a1111Embedding(new ParameterDict([['*', param]]))).pickle).toEqual(b64(CPYTHON_PARAMETER_DICT));
  });

  it('reads A1111’s dict: tensors become references to their storages', () => {
    const root = dict(unpickle(b64(CPYTHON_A1111), 'a.pkl'));
    expect([...root.entries.keys()]).toEqual(['string_to_token', 'string_to_param', 'name', 'step', 'sd_checkpoint', 'sd_checkpoint_name']);
    expect(dict(root.get('string_to_token')!).get('*')).toBe(265);
    expect(root.get('name')).toBe('kitty');
    expect(root.get('step')).toBe(3000);
    const tensor = dict(root.get('string_to_param')!).get('*');
    expect(tensor).toEqual(new TensorRef(new StorageRef('F32', '0', 'cpu', 1536), 0, [2, 768], [768, 1]));
  });

  it('reads a ParameterDict (NEWOBJ + BUILD): its __dict__ is merged, _parameters holds the Parameter', () => {
    const params = dict(unpickle(b64(CPYTHON_PARAMETER_DICT), 'p.pkl')).get('string_to_param');
    const pd = dict(params!);
    expect(pd.type).toBe('ParameterDict');
    expect(pd.get('training')).toBe(true);
    expect(pd.get('_non_persistent_buffers_set')).toBeInstanceOf(PySet);
    const inner = dict(pd.get('_parameters')!);
    expect(inner.type).toBe('OrderedDict');
    expect(inner.get('*')).toEqual(new TensorRef(new StorageRef('F32', '0', 'cpu', 768), 0, [1, 768], [768, 1]));
  });

  it.each([0, 1, 4, 5])('reads plain values of protocol %i (ints, longs, floats, text, containers, memo)', (protocol) => {
    const root = dict(unpickle(b64(CPYTHON_PLAIN[protocol]), 'plain.pkl'));
    expect(root.get('__proto__')).toBe(1); // a key like any other: Map-backed
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
    expect(root.get('ints')).toEqual([0, 255, 256, 65536, -1, 2 ** 31, -(2n ** 63n), 2n ** 70n]);
    const floats = root.get('f') as number[];
    expect(floats[0]).toBe(1.5);
    expect(Object.is(floats[1], -0)).toBe(true);
    expect(floats[2]).toBe(Infinity);
    expect([...(root.get('s') as PySet).items]).toEqual([3]);
    expect((root.get('t') as PyTuple).items).toEqual([1, 'x']);
    expect(root.get('u')).toBe(protocol <= 1 ? 'héllo\n\\' : 'héllo');
    expect(root.get('n')).toBeNull();
    expect(root.get('tf')).toEqual([true, false]);
    expect(dict(root.get('od')!).type).toBe('OrderedDict');
    expect(dict(root.get('od')!).get('a')).toBe(1);
    const same = root.get('same') as PickleValue[][];
    expect(same[0]).toEqual(['shared']);
    expect(same[1]).toBe(same[0]); // the memo shares, as Python does
    if (protocol >= 4) {
      expect(root.get('b')).toEqual(new Uint8Array([0, 1]));
      expect([...(root.get('fs') as PySet).items]).toEqual([4]);
    }
  });

  it('reads long strings and bytes (BINUNICODE8, BINBYTES, BINBYTES8) and deep nesting without recursion', () => {
    const v = unpickle(p(0x80, 4, 0x8d, u32(2), u32(0), 'hi', 'B', u32(1), 'z', 0x8e, u32(0), u32(0), 0x87, '.'), 't') as PyTuple;
    expect(v.items).toEqual(['hi', new Uint8Array([0x7a]), new Uint8Array(0)]);
    const depth = 100_000;
    let nested = unpickle(p(0x80, 2, new Array<number>(depth).fill(0x5d), new Array<number>(depth - 1).fill(0x61), '.'), 'deep');
    let levels = 1;
    while (Array.isArray(nested) && nested.length === 1) (nested = nested[0]), levels++;
    expect(levels).toBe(depth);
  });
});

describe('pickle reader: globals outside the allow-list are refused when named, and nothing runs', () => {
  const marker = { ran: false };
  const run = () => {
    marker.ran = true;
  };
  afterEach(() => {
    vi.restoreAllMocks();
    for (const name of ['os', 'posix', 'builtins', 'subprocess']) delete (globalThis as Record<string, unknown>)[name];
  });

  it.each([
    ['os.system via GLOBAL', p(0x80, 2, 'c', 'os\nsystem\n', ...binunicode('touch /tmp/pwned'), 0x85, 'R', '.'), 'os.system'],
    ['posix.system via GLOBAL', p(0x80, 2, 'c', 'posix\nsystem\n', ...binunicode('id'), 0x85, 'R', '.'), 'posix.system'],
    ['builtins.eval via STACK_GLOBAL', p(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, 0x8c, 6, '1 + 1;', 0x85, 'R', '.'), 'builtins.eval'],
    ['builtins.exec via STACK_GLOBAL', p(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'exec', 0x93, '.'), 'builtins.exec'],
    ['subprocess.Popen via NEWOBJ', p(0x80, 2, 'c', 'subprocess\nPopen\n', ')', 0x81, '.'), 'subprocess.Popen'],
    ['numpy.core.multiarray._reconstruct', p(0x80, 2, 'c', 'numpy.core.multiarray\n_reconstruct\n', '.'), 'numpy.core.multiarray._reconstruct'],
    ['torch.load', p(0x80, 2, 'c', 'torch\nload\n', '.'), 'torch.load'],
    ['a storage-like name in another module', p(0x80, 2, 'c', 'os\nFloatStorage\n', '.'), 'os.FloatStorage'],
    ['INST os.system', p('(', ...binunicode('ls'), 'i', 'os\nsystem\n', '.'), 'os.system'],
  ])('%s', (_, bytes, name) => {
    const g = globalThis as Record<string, unknown>;
    g.os = { system: vi.fn(run), FloatStorage: vi.fn(run) };
    g.posix = { system: vi.fn(run) };
    g.builtins = { eval: vi.fn(run), exec: vi.fn(run) };
    g.subprocess = { Popen: vi.fn(run) };
    const evalSpy = vi.spyOn(globalThis, 'eval');
    const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, (...a: unknown[]) => unknown>;
    const spawns = ['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork'].map((f) => vi.spyOn(childProcess, f));

    const error = refusal(bytes);
    expect(error.reason).toBe('unsafe-pickle');
    expect(error.message).toContain(`test.pkl: names the global '${name}', which the studio never runs; only tensors and plain containers are read (opcode at byte`);
    expect(marker.ran).toBe(false);
    expect(evalSpy).not.toHaveBeenCalled();
    for (const spy of spawns) expect(spy).not.toHaveBeenCalled();
  });

  it('refuses the extension registry (EXT1), which names globals indirectly', () => {
    expect(refusal(p(0x80, 2, 0x82, 1, '.')).reason).toBe('unsafe-pickle');
  });

  it('allowed globals are never called as functions: a storage type under REDUCE is refused', () => {
    const error = refusal(p(0x80, 2, 'c', 'torch\nFloatStorage\n', ')', 'R', '.'));
    expect(error.reason).toBe('invalid');
    expect(error.message).toMatch(/torch\.FloatStorage is read only as a storage type, never called/);
    expect(unpickle(p(0x80, 2, 'c', 'torch\nFloatStorage\n', '.'), 't')).toEqual(new PyGlobal('torch', 'FloatStorage'));
  });
});

describe('pickle reader: broken input is refused by name, with its offset', () => {
  it.each([
    ['an unknown opcode', p(0x80, 2, 0xff, '.'), /unknown opcode 0xff \(opcode at byte 2\)/],
    ['stack underflow', p(0x80, 2, 'a', '.'), /stack underflow \(opcode at byte 2\)/],
    ['underflow across a MARK', p(0x80, 2, 'N', '(', 0x85, '.'), /stack underflow \(opcode at byte 4\)/],
    ['a missing MARK', p(0x80, 2, 't', '.'), /MARK missing \(opcode at byte 2\)/],
    ['a memo miss', p(0x80, 2, 'h', 7, '.'), /memo entry 7 was never stored \(opcode at byte 2\)/],
    ['truncated input', p(0x80, 2, 'X', u32(10), 'abc'), /truncated \(10 more bytes needed\) \(opcode at byte 2\)/],
    ['no STOP', p(0x80, 2, 'N'), /ends without STOP \(opcode at byte 3\)/],
    ['a newer protocol', p(0x80, 6, '.'), /protocol 6 is newer than 5/],
    ['invalid UTF-8', p(0x80, 2, 'X', u32(1), 0xff, '.'), /not valid UTF-8/],
    ['APPEND to a dict', p(0x80, 2, '}', 'N', 'a', '.'), /APPEND to a dict, not a list/],
    ['SETITEM on a list', p(0x80, 2, ']', 'N', 'N', 's', '.'), /SETITEM on a list, not a dict/],
    ['an unhashable key', p(0x80, 2, '}', ']', 'N', 's', '.'), /unhashable dict key \(a list\)/],
    ['BUILD on a plain dict', p(0x80, 2, '}', '}', 'b', '.'), /BUILD on a dict/],
    ['REDUCE of a str', p(0x80, 2, ...binunicode('os'), ')', 'R', '.'), /REDUCE applies a str, not a callable/],
    ['a bad persistent id', p(0x80, 2, ...binunicode('x'), 'Q', '.'), /persistent id is a str, not a \('storage', …\) tuple/],
    ['a tensor without a storage', p(0x80, 2, 'c', 'torch._utils\n_rebuild_tensor_v2\n', '(', 'N', 'K', 0, ')', ')', 0x89, 'N', 't', 'R', '.'), /a tensor's storage is None/],
    ['a text persistent id', p('P', '0\n', '.'), /PERSID/],
  ])('%s', (_, bytes, message) => {
    const error = refusal(bytes);
    expect(error.reason).toBe('invalid');
    expect(error.message).toMatch(/^test\.pkl: /);
    expect(error.message).toMatch(message);
  });

  it('caps total work at a linear function of the input: a BUILD loop over one big state is refused', () => {
    const build = (entries: number, repeats: number) => {
      const parts: (number | string | number[])[] = [0x80, 2, 'c', 'collections\nOrderedDict\n', ')', 'R', 'q', 0, '}', 'q', 1, '('];
      for (let i = 0; i < entries; i++) parts.push('M', i & 0xff, i >> 8, 'N');
      parts.push('u', '0');
      for (let i = 0; i < repeats; i++) parts.push('h', 0, 'h', 1, 'b', '0');
      parts.push('h', 0, '.');
      return p(...parts);
    };
    expect(dict(unpickle(build(1000, 1), 'ok')).entries.size).toBe(1000);
    expect(refusal(build(1000, 1000)).message).toMatch(/does more work than its size allows/);
  });
});
