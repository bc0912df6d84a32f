/**
 * What the pickle reader (pickle.ts) makes of a pickle: plain values, Python containers as small
 * classes (a dict is a Map, so any key is kept), allow-listed globals by name, and torch storages
 * and tensors as references into the file. No code and no interpreter here: the torch readers
 * take these apart.
 */
/** A Python tuple (lists are JS arrays). */
export class PyTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** A dict, OrderedDict or ParameterDict; a Map, so any key (`__proto__` too) is kept as is. */
export class PyDict {
  readonly entries = new Map<PickleValue, PickleValue>();
  constructor(readonly type: 'dict' | 'OrderedDict' | 'ParameterDict') {}
  get(key: string): PickleValue | undefined {
    return this.entries.get(key);
  }
}

export class PySet {
  readonly items = new Set<PickleValue>();
}

/** An allow-listed global, e.g. `collections.OrderedDict`; only these are ever created. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Element types of torch's typed storages. */
export type StorageDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const STORAGE_TYPES = new Map<string, StorageDtype>([
  ['DoubleStorage', 'F64'],
  ['FloatStorage', 'F32'],
  ['HalfStorage', 'F16'],
  ['BFloat16Storage', 'BF16'],
  ['LongStorage', 'I64'],
  ['IntStorage', 'I32'],
  ['ShortStorage', 'I16'],
  ['CharStorage', 'I8'],
  ['ByteStorage', 'U8'],
  ['BoolStorage', 'BOOL'],
]);

/** A persistent id `('storage', torch.<T>Storage, key, location, numel)`: the bytes live in the zip at `data/<key>`. */
export class StorageRef {
  constructor(
    readonly dtype: StorageDtype,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** What `_rebuild_tensor_v2` makes: a view into a storage, in elements. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleValue[] | PyTuple | PyDict | PySet | PyGlobal | StorageRef | TensorRef;

/** The Python type of a value, for messages. */
export function typeName(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an int' : 'a float';
  if (typeof v === 'bigint') return 'an int';
  if (typeof v === 'string') return 'a str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyDict) return `a ${v.type}`;
  if (v instanceof PySet) return 'a set';
  if (v instanceof PyGlobal) return v.path;
  if (v instanceof StorageRef) return 'a storage';
  return 'a tensor';
}
