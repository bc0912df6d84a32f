/**
 * For tests: what torch.save writes, byte by byte. A protocol-2 pickler that emits what CPython's
 * pickler emits for the objects an embedding holds (dicts, OrderedDicts, str, int, float, bool,
 * None, lists, tuples, sets, tensors, Parameters, a ParameterDict), with torch's persistent ids
 * for storages; and the zip PyTorchStreamWriter (miniz) writes around it: STORED entries under
 * one folder, data aligned to 64 bytes by an "FB" extra field, CRC-32s, the central directory,
 * the zip64 end records (torch opens its writer with MZ_ZIP_FLAG_WRITE_ZIP64) and the end record.
 */
import { crc32 } from './zip';

export class Float {
  constructor(readonly value: number) {}
}
export class Tuple {
  constructor(readonly items: Py[]) {}
}
/** A dict (or OrderedDict) with its items in order. */
export class Dict {
  constructor(
    readonly items: [Py, Py][],
    readonly ordered = false,
  ) {}
}
export class PySetOf {
  constructor(readonly items: Py[]) {}
}
export type TorchDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64';
const STORAGE_TYPE: Record<TorchDtype, [string, number]> = { F64: ['DoubleStorage', 8], F32: ['FloatStorage', 4], F16: ['HalfStorage', 2], BF16: ['BFloat16Storage', 2], I64: ['LongStorage', 8] };

/** A storage's raw little-endian bytes. */
export class Storage {
  constructor(
    readonly dtype: TorchDtype,
    readonly bytes: Uint8Array,
  ) {}
  get numel(): number {
    return this.bytes.length / STORAGE_TYPE[this.dtype][1];
  }
  static f32(values: ArrayLike<number>): Storage {
    return new Storage('F32', new Uint8Array(Float32Array.from(values).buffer));
  }
  static bits16(dtype: 'F16' | 'BF16', bits: ArrayLike<number>): Storage {
    return new Storage(dtype, new Uint8Array(Uint16Array.from(bits).buffer));
  }
}
/** A view of a storage (offset, size, stride in elements), as `torch.Tensor` or `nn.Parameter`. */
export class Tensor {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    readonly opts: { requiresGrad?: boolean; parameter?: boolean } = {},
  ) {}
  static contiguous(storage: Storage, size: number[], opts: Tensor['opts'] = {}): Tensor {
    const stride = size.map((_, d) => size.slice(d + 1).reduce((a, b) => a * b, 1));
    return new Tensor(storage, 0, size, stride, opts);
  }
}
/** `torch.nn.ParameterDict`, pickled as the module it is (NEWOBJ + BUILD with its `__dict__`). */
export class ParameterDict {
  constructor(readonly params: [string, Tensor][]) {}
}
export type Py = null | boolean | number | string | Float | Py[] | Tuple | Dict | PySetOf | Tensor | ParameterDict;

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47, BINUNICODE: 0x58,
  EMPTY_DICT: 0x7d, EMPTY_LIST: 0x5d, EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85,
  APPEND: 0x61, APPENDS: 0x65, SETITEM: 0x73, SETITEMS: 0x75, BINGET: 0x68, LONG_BINGET: 0x6a,
  BINPUT: 0x71, LONG_BINPUT: 0x72, GLOBAL: 0x63, REDUCE: 0x52, BUILD: 0x62, NEWOBJ: 0x81, BINPERSID: 0x51,
} as const;

class Pickler {
  private readonly out: number[] = [];
  /** CPython memoizes by id(); strings by value stand in for its shared constants. */
  private readonly memo = new Map<unknown, number>();
  /** Storage keys in order of first use, as torch's persistent_id assigns them. */
  readonly storages = new Map<Storage, string>();

  dump(obj: Py): Uint8Array {
    this.out.push(OP.PROTO, 2);
    this.save(obj);
    this.out.push(OP.STOP);
    return Uint8Array.from(this.out);
  }

  private bytes(...b: number[]): void {
    for (const x of b) this.out.push(x);
  }
  private u32(n: number): void {
    this.bytes(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  private memoize(key: unknown): void {
    const i = this.memo.size;
    this.memo.set(key, i);
    if (i < 256) this.bytes(OP.BINPUT, i);
    else (this.bytes(OP.LONG_BINPUT), this.u32(i));
  }
  /** BINGET when already memoized. */
  private got(key: unknown): boolean {
    const i = this.memo.get(key);
    if (i === undefined) return false;
    if (i < 256) this.bytes(OP.BINGET, i);
    else (this.bytes(OP.LONG_BINGET), this.u32(i));
    return true;
  }

  private save(obj: Py): void {
    if (obj === null) return this.bytes(OP.NONE);
    if (obj === true) return this.bytes(OP.NEWTRUE);
    if (obj === false) return this.bytes(OP.NEWFALSE);
    if (typeof obj === 'number') return this.int(obj);
    if (typeof obj === 'string') return this.str(obj);
    if (obj instanceof Float) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, obj.value, false);
      return this.bytes(OP.BINFLOAT, ...b);
    }
    if (this.got(obj)) return;
    if (Array.isArray(obj)) {
      this.bytes(OP.EMPTY_LIST);
      this.memoize(obj);
      return this.appends(obj);
    }
    if (obj instanceof Tuple) return this.tuple(obj.items, obj);
    if (obj instanceof Dict) {
      if (obj.ordered) this.reduce('collections', 'OrderedDict', [], obj);
      else (this.bytes(OP.EMPTY_DICT), this.memoize(obj));
      return this.setItems(obj.items);
    }
    // protocol 2 pickles a set as set(list(items)); fix_imports writes builtins as __builtin__
    if (obj instanceof PySetOf) return this.reduce('__builtin__', 'set', [obj.items], obj);
    if (obj instanceof Tensor) return this.tensor(obj);
    return this.parameterDict(obj);
  }

  private int(n: number): void {
    if (!Number.isInteger(n)) throw new Error(`${n} is not an int; wrap floats in Float`);
    if (n >= 0 && n <= 0xff) return this.bytes(OP.BININT1, n);
    if (n >= 0 && n <= 0xffff) return this.bytes(OP.BININT2, n & 0xff, n >> 8);
    if (n >= -0x80000000 && n <= 0x7fffffff) return (this.bytes(OP.BININT), this.u32(n));
    // encode_long: little-endian two's complement, shortest
    const out: number[] = [];
    let v = BigInt(n);
    while (v !== 0n && v !== -1n) {
      out.push(Number(v & 0xffn));
      v >>= 8n;
    }
    if ((n < 0) !== ((out[out.length - 1] & 0x80) !== 0)) out.push(n < 0 ? 0xff : 0);
    this.bytes(OP.LONG1, out.length, ...out);
  }

  private str(s: string): void {
    if (this.got(`str:${s}`)) return;
    const utf8 = new TextEncoder().encode(s);
    this.bytes(OP.BINUNICODE);
    this.u32(utf8.length);
    this.bytes(...utf8);
    this.memoize(`str:${s}`);
  }

  private global(module: string, name: string): void {
    if (this.got(`global:${module}.${name}`)) return;
    this.bytes(OP.GLOBAL, ...new TextEncoder().encode(`${module}\n${name}\n`));
    this.memoize(`global:${module}.${name}`);
  }

  /** save_tuple: () unmemoized; up to 3 items with TUPLEn; else MARK … TUPLE. */
  private tuple(items: Py[], key: unknown = {}): void {
    if (items.length === 0) return this.bytes(OP.EMPTY_TUPLE);
    if (items.length > 3) this.bytes(OP.MARK);
    for (const item of items) this.save(item);
    this.bytes(items.length <= 3 ? OP.TUPLE1 + items.length - 1 : OP.TUPLE);
    this.memoize(key);
  }

  private appends(items: Py[]): void {
    if (items.length === 1) return (this.save(items[0]), this.bytes(OP.APPEND));
    for (let i = 0; i < items.length; i += 1000) {
      this.bytes(OP.MARK);
      for (const item of items.slice(i, i + 1000)) this.save(item);
      this.bytes(OP.APPENDS);
    }
  }

  private setItems(items: [Py, Py][]): void {
    if (items.length === 1) return (this.save(items[0][0]), this.save(items[0][1]), this.bytes(OP.SETITEM));
    for (let i = 0; i < items.length; i += 1000) {
      this.bytes(OP.MARK);
      for (const [k, v] of items.slice(i, i + 1000)) (this.save(k), this.save(v));
      this.bytes(OP.SETITEMS);
    }
  }

  /** save_reduce(func, args): func, args, REDUCE, then the result is memoized. */
  private reduce(module: string, name: string, args: Py[], key: unknown, argsKey: unknown = {}): void {
    this.global(module, name);
    this.tuple(args, argsKey);
    this.bytes(OP.REDUCE);
    this.memoize(key);
  }

  /** Tensor.__reduce_ex__ → _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict()). */
  private tensor(t: Tensor): void {
    if (t.opts.parameter) {
      // Parameter.__reduce_ex__ → _rebuild_parameter(self.data, requires_grad, OrderedDict()); .data is a new tensor
      const data = new Tensor(t.storage, t.offset, t.size, t.stride, { requiresGrad: false });
      this.global('torch._utils', '_rebuild_parameter');
      this.tuple([data, t.opts.requiresGrad ?? true, new Dict([], true)]);
      this.bytes(OP.REDUCE);
      return this.memoize(t);
    }
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.bytes(OP.MARK);
    this.persistentStorage(t.storage);
    this.save(t.offset);
    this.save(new Tuple(t.size));
    this.save(new Tuple(t.stride));
    this.save(t.opts.requiresGrad ?? false);
    this.save(new Dict([], true));
    this.bytes(OP.TUPLE);
    this.memoize({});
    this.bytes(OP.REDUCE);
    this.memoize(t);
  }

  /** torch.save's persistent_id: ('storage', torch.<T>Storage, key, 'cpu', numel), then BINPERSID. */
  private persistentStorage(s: Storage): void {
    let key = this.storages.get(s);
    if (key === undefined) this.storages.set(s, (key = String(this.storages.size)));
    this.bytes(OP.MARK);
    this.str('storage');
    this.global('torch', STORAGE_TYPE[s.dtype][0]);
    this.str(key);
    this.str('cpu');
    this.save(s.numel);
    this.bytes(OP.TUPLE);
    this.memoize({});
    this.bytes(OP.BINPERSID);
  }

  /** copyreg.__newobj__(ParameterDict) + BUILD with the module's __dict__ (torch 2.x's keys). */
  private parameterDict(p: ParameterDict): void {
    this.global('torch.nn.modules.container', 'ParameterDict');
    this.bytes(OP.EMPTY_TUPLE, OP.NEWOBJ);
    this.memoize(p);
    const od = () => new Dict([], true);
    const state = new Dict([
      ['training', true],
      ['_parameters', new Dict(p.params, true)],
      ['_buffers', od()],
      ['_non_persistent_buffers_set', new PySetOf([])],
      ['_backward_pre_hooks', od()],
      ['_backward_hooks', od()],
      ['_is_full_backward_hook', null],
      ['_forward_hooks', od()],
      ['_forward_hooks_with_kwargs', od()],
      ['_forward_hooks_always_called', od()],
      ['_forward_pre_hooks', od()],
      ['_forward_pre_hooks_with_kwargs', od()],
      ['_state_dict_hooks', od()],
      ['_state_dict_pre_hooks', od()],
      ['_load_state_dict_pre_hooks', od()],
      ['_load_state_dict_post_hooks', od()],
      ['_modules', od()],
      ['_keys', new Dict(p.params.map(([k]) => [k, null]))],
    ]);
    this.save(state);
    this.bytes(OP.BUILD);
  }
}

/** `pickle.dumps(obj, protocol=2)` with torch's persistent ids; also the storages it named, by key. */
export function torchPickle(obj: Py): { pickle: Uint8Array; storages: Map<string, Storage> } {
  const p = new Pickler();
  const pickle = p.dump(obj);
  return { pickle, storages: new Map([...p.storages].map(([s, key]) => [key, s])) };
}

export interface ZipRecord {
  name: string;
  data: Uint8Array;
}

/** A zip of STORED records the way miniz writes them for PyTorchStreamWriter. */
export function storedZip(records: ZipRecord[]): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  const le = (n: number, bytes: number) => {
    for (let i = 0; i < bytes; i++) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  };
  const central: number[][] = [];
  const DOS_TIME = 0x6000; // 12:00:00
  const DOS_DATE = 0x5a21; // 2025-01-01
  for (const r of records) {
    const name = new TextEncoder().encode(r.name);
    const offset = out.length;
    const crc = crc32(r.data);
    // torch pads the local header's extra field ("FB", length) so the data starts 64-aligned
    const start = offset + 30 + name.length + 4;
    const padding = (64 - (start % 64)) % 64;
    le(0x04034b50, 4), le(20, 2), le(0, 2), le(0, 2), le(DOS_TIME, 2), le(DOS_DATE, 2);
    le(crc, 4), le(r.data.length, 4), le(r.data.length, 4), le(name.length, 2), le(4 + padding, 2);
    out.push(...name, 0x46, 0x42, padding & 0xff, padding >> 8, ...new Array<number>(padding).fill(0x5a));
    for (const b of r.data) out.push(b);
    const c: number[] = [];
    const cle = (n: number, bytes: number) => {
      for (let i = 0; i < bytes; i++) c.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
    };
    cle(0x02014b50, 4), cle(0x031e, 2), cle(20, 2), cle(0, 2), cle(0, 2), cle(DOS_TIME, 2), cle(DOS_DATE, 2);
    cle(crc, 4), cle(r.data.length, 4), cle(r.data.length, 4), cle(name.length, 2), cle(0, 2), cle(0, 2);
    cle(0, 2), cle(0, 2), cle(0, 4), cle(offset, 4);
    c.push(...name);
    central.push(c);
  }
  const directoryStart = out.length;
  for (const c of central) out.push(...c);
  const directorySize = out.length - directoryStart;
  const zip64End = out.length;
  le(0x06064b50, 4), le(44, 8), le(0x031e, 2), le(45, 2), le(0, 4), le(0, 4);
  le(records.length, 8), le(records.length, 8), le(directorySize, 8), le(directoryStart, 8);
  le(0x07064b50, 4), le(0, 4), le(zip64End, 8), le(1, 4);
  le(0x06054b50, 4), le(0, 2), le(0, 2), le(records.length, 2), le(records.length, 2);
  le(directorySize, 4), le(directoryStart, 4), le(0, 2);
  return Uint8Array.from(out);
}

/** The records torch.save (2.x) writes for `obj` under `folder` (the file's stem, or "archive"). */
export function torchSaveRecords(obj: Py, folder = 'archive', opts: { byteorder?: string } = {}): ZipRecord[] {
  const { pickle, storages } = torchPickle(obj);
  const text = (s: string) => new TextEncoder().encode(s);
  return [
    { name: `${folder}/data.pkl`, data: pickle },
    { name: `${folder}/.format_version`, data: text('1') },
    { name: `${folder}/.storage_alignment`, data: text('64') },
    { name: `${folder}/byteorder`, data: text(opts.byteorder ?? 'little') },
    ...[...storages].map(([key, s]) => ({ name: `${folder}/data/${key}`, data: s.bytes })),
    { name: `${folder}/version`, data: text('3\n') },
    { name: `${folder}/.data/serialization_id`, data: text('1234567890123456789012345678901234567890') },
  ];
}

/** `torch.save(obj, f"{folder}.pt")`, as bytes. */
export function torchSave(obj: Py, folder = 'archive', opts: { byteorder?: string } = {}): Uint8Array<ArrayBuffer> {
  return storedZip(torchSaveRecords(obj, folder, opts));
}

/** AUTOMATIC1111's Embedding.save: the dict it writes for one `[n, dim]` tensor. */
export function a1111Embedding(vec: Tensor | ParameterDict, info: { name?: string; step?: number } = {}): Dict {
  return new Dict([
    ['string_to_token', new Dict([['*', 265]])],
    ['string_to_param', vec instanceof ParameterDict ? vec : new Dict([['*', vec]])],
    ['name', info.name ?? 'my-cat'],
    ['step', info.step ?? 3000],
    ['sd_checkpoint', '4c86efd062'],
    ['sd_checkpoint_name', 'v1-5-pruned-emaonly'],
  ]);
}
