/**
 * A pickle reader for what torch.save writes, with an allow-list: the opcodes of protocols 0–5
 * (torch.save writes protocol 2) are interpreted into plain values and nothing is ever run. The only callables are ours, in JS, for
 * the globals AUTOMATIC1111's safe unpickler (modules/safe.py) allows for embeddings:
 * `collections.OrderedDict`, torch's tensor and parameter rebuilds, the `torch.*Storage` types,
 * `ParameterDict` and `set`. Any other global is refused where the pickle names it
 * (`unsafe-pickle`), before anything else happens.
 *
 * Bounded: no recursion (an explicit stack), memo and containers grow at most one entry per
 * opcode, total work is capped at a linear function of the input, so no input can hang it. Every
 * problem is a `FormatError('invalid')` naming it and its byte offset.
 */
import { FormatError } from './errors';
import { PyDict, PyGlobal, PySet, PyTuple, STORAGE_TYPES, StorageRef, TensorRef, typeName, type PickleValue } from './pickle-values';

const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch.nn.modules.container.ParameterDict',
  'builtins.set',
  '__builtin__.set',
]);

function isAllowed(module: string, name: string): boolean {
  return CALLABLES.has(`${module}.${name}`) || (module === 'torch' && STORAGE_TYPES.has(name));
}

/** Work allowed per input byte: every opcode costs 1, and each value it copies 1 more. */
const WORK_PER_BYTE = 4;
/** Longer integers (LONG4, text LONG) are refused: torch files hold small ones. */
const MAX_INTEGER_BYTES = 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Reads one pickle; `what` names it in messages (e.g. `my-cat.pt: data.pkl`). */
export function unpickle(data: Uint8Array, what: string): PickleValue {
  return new Unpickler(data, what).run();
}

class Unpickler {
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  /** Stack lengths at each MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private pos = 0;
  /** Where the current opcode starts. */
  private at = 0;
  private work = 0;
  private readonly budget: number;

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.budget = WORK_PER_BYTE * data.length + 1024;
  }

  private fail(problem: string): FormatError {
    return new FormatError('invalid', `${this.what}: ${problem} (opcode at byte ${this.at}).`);
  }

  private charge(n: number): void {
    this.work += n;
    if (this.work > this.budget) throw this.fail('the pickle does more work than its size allows');
  }

  run(): PickleValue {
    for (;;) {
      this.at = this.pos;
      if (this.pos >= this.data.length) throw this.fail('the pickle ends without STOP');
      const op = this.data[this.pos++];
      this.charge(1);
      if (op === 0x2e) return this.pop(); // STOP
      this.step(op);
    }
  }

  // --- reading operands -------------------------------------------------------------------

  private need(n: number): void {
    if (this.pos + n > this.data.length) throw this.fail(`the pickle is truncated (${n} more bytes needed)`);
  }
  private u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }
  private u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2, true);
  }
  private u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4, true);
  }
  private i32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getInt32(this.pos - 4, true);
  }
  private u64(): number {
    const low = this.u32();
    const high = this.u32();
    if (high >= 0x200000) throw this.fail('a length does not fit in 53 bits');
    return high * 0x100000000 + low;
  }
  private bytes(n: number): Uint8Array {
    if (n < 0) throw this.fail('a negative length');
    this.need(n);
    this.pos += n;
    return this.data.subarray(this.pos - n, this.pos);
  }
  /** Text up to the next newline (protocol 0 operands), without it. */
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) throw this.fail('a text operand has no newline');
    const text = latin1.decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }
  private text(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.fail('a string is not valid UTF-8');
    }
  }

  // --- the stack ----------------------------------------------------------------------------

  private fence(): number {
    return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1];
  }
  private push(v: PickleValue): void {
    this.stack.push(v);
  }
  private pop(): PickleValue {
    if (this.stack.length <= this.fence()) throw this.fail('stack underflow');
    return this.stack.pop()!;
  }
  private top(): PickleValue {
    if (this.stack.length <= this.fence()) throw this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.fail('MARK missing');
    const items = this.stack.splice(mark);
    this.charge(items.length);
    return items;
  }
  private popN(n: number): PickleValue[] {
    if (this.stack.length - n < this.fence()) throw this.fail('stack underflow');
    return this.stack.splice(this.stack.length - n);
  }
  private memoIndex(i: number): PickleValue {
    const v = this.memo.get(i);
    if (v === undefined) throw this.fail(`memo entry ${i} was never stored`);
    return v;
  }

  // --- opcodes ------------------------------------------------------------------------------

  private step(op: number): void {
    switch (op) {
      case 0x80: { // PROTO
        const protocol = this.u8();
        if (protocol > 5) throw this.fail(`pickle protocol ${protocol} is newer than 5`);
        return;
      }
      case 0x95: // FRAME: a length hint only
        if (this.u64() > this.data.length - this.pos) throw this.fail('a frame runs past the end');
        return;
      case 0x28: // MARK
        this.marks.push(this.stack.length);
        return;
      case 0x30: // POP (a bare MARK is popped as CPython does)
        if (this.stack.length > this.fence()) this.stack.pop();
        else this.popMark();
        return;
      case 0x31: // POP_MARK
        this.popMark();
        return;
      case 0x32: // DUP
        return this.push(this.top());

      case 0x4e: // NONE
        return this.push(null);
      case 0x88: // NEWTRUE
        return this.push(true);
      case 0x89: // NEWFALSE
        return this.push(false);
      case 0x49: // INT (text; "00"/"01" are False/True)
        return this.push(this.textInteger(this.line(), true));
      case 0x4c: // LONG (text)
        return this.push(this.textInteger(this.line().replace(/L$/, ''), false));
      case 0x4a: // BININT
        return this.push(this.i32());
      case 0x4b: // BININT1
        return this.push(this.u8());
      case 0x4d: // BININT2
        return this.push(this.u16());
      case 0x8a: // LONG1
        return this.push(this.long(this.u8()));
      case 0x8b: // LONG4
        return this.push(this.long(this.i32()));
      case 0x46: // FLOAT (text)
        return this.push(this.textFloat(this.line()));
      case 0x47: // BINFLOAT (big-endian double)
        this.need(8);
        this.pos += 8;
        return this.push(this.view.getFloat64(this.pos - 8, false));

      case 0x54: // BINSTRING (Python 2 str, read as text)
        return this.push(this.text(this.bytes(this.i32())));
      case 0x55: // SHORT_BINSTRING
        return this.push(this.text(this.bytes(this.u8())));
      case 0x58: // BINUNICODE
        return this.push(this.text(this.bytes(this.u32())));
      case 0x8c: // SHORT_BINUNICODE
        return this.push(this.text(this.bytes(this.u8())));
      case 0x8d: // BINUNICODE8
        return this.push(this.text(this.bytes(this.u64())));
      case 0x56: // UNICODE (text, raw-unicode-escape)
        return this.push(this.rawUnicodeEscape(this.line()));
      case 0x42: // BINBYTES
        return this.push(this.bytes(this.u32()));
      case 0x43: // SHORT_BINBYTES
        return this.push(this.bytes(this.u8()));
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        return this.push(this.bytes(this.u64()));

      case 0x7d: // EMPTY_DICT
        return this.push(new PyDict('dict'));
      case 0x5d: // EMPTY_LIST
        return this.push([]);
      case 0x29: // EMPTY_TUPLE
        return this.push(new PyTuple([]));
      case 0x8f: // EMPTY_SET
        return this.push(new PySet());
      case 0x74: // TUPLE
        return this.push(new PyTuple(this.popMark()));
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        return this.push(new PyTuple(this.popN(op - 0x84)));
      case 0x6c: // LIST
        return this.push(this.popMark());
      case 0x64: { // DICT
        const dict = new PyDict('dict');
        this.setItems(dict, this.popMark());
        return this.push(dict);
      }
      case 0x91: { // FROZENSET
        const set = new PySet();
        this.addItems(set, this.popMark());
        return this.push(set);
      }
      case 0x61: { // APPEND
        const value = this.pop();
        this.list(this.top()).push(value);
        return;
      }
      case 0x65: { // APPENDS
        const items = this.popMark();
        const list = this.list(this.top());
        for (const item of items) list.push(item);
        return;
      }
      case 0x73: { // SETITEM
        const value = this.pop();
        const key = this.pop();
        this.setItems(this.top(), [key, value]);
        return;
      }
      case 0x75: { // SETITEMS
        const items = this.popMark();
        this.setItems(this.top(), items);
        return;
      }
      case 0x90: { // ADDITEMS
        const items = this.popMark();
        this.addItems(this.top(), items);
        return;
      }

      case 0x67: // GET (text)
        return this.push(this.memoIndex(this.textIndex(this.line())));
      case 0x68: // BINGET
        return this.push(this.memoIndex(this.u8()));
      case 0x6a: // LONG_BINGET
        return this.push(this.memoIndex(this.u32()));
      case 0x70: // PUT (text)
        this.memo.set(this.textIndex(this.line()), this.top());
        return;
      case 0x71: // BINPUT
        this.memo.set(this.u8(), this.top());
        return;
      case 0x72: // LONG_BINPUT
        this.memo.set(this.u32(), this.top());
        return;
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top());
        return;

      case 0x63: { // GLOBAL "module\nname\n"
        const module = this.line();
        return this.push(this.global(module, this.line()));
      }
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.fail('STACK_GLOBAL needs two strings');
        return this.push(this.global(module, name));
      }
      case 0x69: { // INST "module\nname\n": instantiate with the marked args
        const module = this.line();
        const cls = this.global(module, this.line());
        this.popMark();
        return this.push(this.construct(cls));
      }
      case 0x6f: { // OBJ: class and args after the mark
        const [cls] = this.popMark();
        return this.push(this.construct(cls ?? null));
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw new FormatError('unsafe-pickle', `${this.what}: names a global through the extension registry, which the studio never resolves; only tensors and plain containers are read (opcode at byte ${this.at}).`);

      case 0x52: { // REDUCE: callable(*args)
        const args = this.tuple(this.pop(), 'REDUCE');
        return this.push(this.call(this.pop(), args));
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        this.tuple(this.pop(), 'NEWOBJ');
        return this.push(this.construct(this.pop()));
      }
      case 0x92: { // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        this.pop();
        this.tuple(this.pop(), 'NEWOBJ_EX');
        return this.push(this.construct(this.pop()));
      }
      case 0x62: { // BUILD: obj.__setstate__(state)
        const state = this.pop();
        this.build(this.top(), state);
        return;
      }
      case 0x51: // BINPERSID
        return this.push(this.storage(this.pop()));
      case 0x50: // PERSID
        throw this.fail('text persistent ids (PERSID) are not read');
      case 0x53: // STRING
        throw this.fail('protocol-0 quoted strings (STRING) are not read');
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw this.fail('out-of-band buffers are not read');
      default:
        throw this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  // --- values -------------------------------------------------------------------------------

  private textInteger(text: string, boolAllowed: boolean): number | bigint | boolean {
    if (boolAllowed && text === '00') return false;
    if (boolAllowed && text === '01') return true;
    if (text.length > MAX_INTEGER_BYTES || !/^[+-]?\d+$/.test(text)) throw this.fail('a text integer is malformed or too long');
    return narrow(BigInt(text));
  }

  private textIndex(text: string): number {
    if (!/^\d{1,10}$/.test(text)) throw this.fail('a memo index is malformed');
    return Number(text);
  }

  private textFloat(text: string): number {
    if (!/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|infinity|nan)$/i.test(text)) throw this.fail('a text float is malformed');
    const lower = text.toLowerCase().replace(/^\+/, '');
    if (lower.endsWith('nan')) return NaN;
    if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
    return Number(text);
  }

  /** Little-endian two's complement, `n` bytes. */
  private long(n: number): number | bigint {
    if (n < 0 || n > MAX_INTEGER_BYTES) throw this.fail(`an integer of ${n} bytes`);
    const bytes = this.bytes(n);
    if (n === 0) return 0;
    let hex = '';
    for (let i = n - 1; i >= 0; i--) hex += bytes[i].toString(16).padStart(2, '0');
    let value = BigInt(`0x${hex}`);
    if (bytes[n - 1] & 0x80) value -= 1n << BigInt(8 * n);
    return narrow(value);
  }

  private rawUnicodeEscape(text: string): string {
    return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_whole, short?: string, long?: string) => {
      const code = parseInt(short ?? long ?? '', 16);
      if (code > 0x10ffff) throw this.fail('a \\U escape is out of range');
      return String.fromCodePoint(code);
    });
  }

  private list(target: PickleValue): PickleValue[] {
    if (!Array.isArray(target)) throw this.fail(`APPEND to ${typeName(target)}, not a list`);
    return target;
  }

  private tuple(value: PickleValue, op: string): readonly PickleValue[] {
    if (!(value instanceof PyTuple)) throw this.fail(`${op} arguments are ${typeName(value)}, not a tuple`);
    return value.items;
  }

  private setItems(target: PickleValue, items: readonly PickleValue[]): void {
    if (!(target instanceof PyDict)) throw this.fail(`SETITEM on ${typeName(target)}, not a dict`);
    if (items.length % 2 !== 0) throw this.fail('an odd number of dict items');
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (Array.isArray(key) || key instanceof PyDict || key instanceof PySet) throw this.fail(`an unhashable dict key (${typeName(key)})`);
      target.entries.set(key, items[i + 1]);
    }
  }

  private addItems(target: PickleValue, items: readonly PickleValue[]): void {
    if (!(target instanceof PySet)) throw this.fail(`ADDITEMS on ${typeName(target)}, not a set`);
    for (const item of items) target.items.add(item);
  }

  /** Refuses, by name, any global outside the allow-list. */
  private global(module: string, name: string): PyGlobal {
    if (!isAllowed(module, name)) {
      throw new FormatError(
        'unsafe-pickle',
        `${this.what}: names the global '${shown(`${module}.${name}`)}', which the studio never runs; only tensors and plain containers are read (opcode at byte ${this.at}).`,
      );
    }
    return new PyGlobal(module, name);
  }

  /** `cls.__new__(cls)` for the allow-listed classes: empty containers. */
  private construct(cls: PickleValue): PickleValue {
    if (!(cls instanceof PyGlobal)) throw this.fail(`${typeName(cls)} is instantiated, not a class`);
    if (cls.path === 'collections.OrderedDict') return new PyDict('OrderedDict');
    if (cls.path === 'torch.nn.modules.container.ParameterDict') return new PyDict('ParameterDict');
    if (cls.name === 'set' && cls.module !== 'torch') return new PySet();
    throw this.fail(`${cls.path} cannot be instantiated here`);
  }

  /** Our JS stand-ins for the allow-listed callables. */
  private call(fn: PickleValue, args: readonly PickleValue[]): PickleValue {
    if (!(fn instanceof PyGlobal)) throw this.fail(`REDUCE applies ${typeName(fn)}, not a callable`);
    switch (fn.path) {
      case 'torch._utils._rebuild_tensor_v2':
        return this.rebuildTensor(args);
      case 'torch._utils._rebuild_parameter':
        if (args.length !== 3 || !(args[0] instanceof TensorRef)) throw this.fail('_rebuild_parameter needs (tensor, requires_grad, hooks)');
        return args[0];
      case 'collections.OrderedDict':
      case 'torch.nn.modules.container.ParameterDict': {
        const dict = this.construct(fn) as PyDict;
        if (args.length > 1) throw this.fail(`${fn.path} takes at most one argument`);
        if (args.length === 1) this.setItems(dict, this.pairs(args[0]));
        return dict;
      }
      case 'builtins.set':
      case '__builtin__.set': {
        const set = new PySet();
        if (args.length > 1) throw this.fail('set takes at most one argument');
        if (args.length === 1) this.addItems(set, this.iterable(args[0]));
        return set;
      }
      default:
        throw this.fail(`${fn.path} is read only as a storage type, never called`);
    }
  }

  private iterable(value: PickleValue): readonly PickleValue[] {
    if (Array.isArray(value)) return (this.charge(value.length), value);
    if (value instanceof PyTuple) return (this.charge(value.items.length), value.items);
    if (value instanceof PySet) return (this.charge(value.items.size), [...value.items]);
    throw this.fail(`${typeName(value)} is not iterable here`);
  }

  /** `OrderedDict([(k, v), …])`: the pairs, flattened. */
  private pairs(value: PickleValue): PickleValue[] {
    const out: PickleValue[] = [];
    for (const pair of this.iterable(value)) {
      const items = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : null;
      if (!items || items.length !== 2) throw this.fail('an OrderedDict item is not a (key, value) pair');
      out.push(items[0], items[1]);
    }
    return out;
  }

  /** `__setstate__` of OrderedDict / ParameterDict: the state's items are merged in. */
  private build(target: PickleValue, state: PickleValue): void {
    if (!(target instanceof PyDict) || target.type === 'dict') throw this.fail(`BUILD on ${typeName(target)}`);
    // state, or (state, slot state)
    const parts = state instanceof PyTuple && state.items.length === 2 ? state.items : [state];
    for (const part of parts) {
      if (part === null) continue;
      if (!(part instanceof PyDict)) throw this.fail(`BUILD with ${typeName(part)} state, not a dict`);
      this.charge(part.entries.size);
      for (const [key, value] of part.entries) target.entries.set(key, value);
    }
  }

  /** `('storage', torch.<T>Storage, key, location, numel)`. */
  private storage(pid: PickleValue): StorageRef {
    const items = pid instanceof PyTuple ? pid.items : [];
    const [tag, type, key, location, numel] = items;
    if (items.length !== 5 || tag !== 'storage') throw this.fail(`a persistent id is ${typeName(pid)}, not a ('storage', …) tuple`);
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !STORAGE_TYPES.has(type.name)) throw this.fail(`a storage's type is ${typeName(type)}, not a torch storage type`);
    if (typeof key !== 'string' || typeof location !== 'string') throw this.fail("a storage's key and location are not strings");
    if (!isCount(numel)) throw this.fail("a storage's size is not a count");
    return new StorageRef(STORAGE_TYPES.get(type.name)!, key, location, numel);
  }

  /** `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`. */
  private rebuildTensor(args: readonly PickleValue[]): TensorRef {
    const [storage, offset, size, stride] = args;
    if (args.length !== 6 && args.length !== 7) throw this.fail(`_rebuild_tensor_v2 takes 6 or 7 arguments, not ${args.length}`);
    if (!(storage instanceof StorageRef)) throw this.fail(`a tensor's storage is ${typeName(storage)}`);
    if (!isCount(offset)) throw this.fail("a tensor's storage offset is not a count");
    const dims = size instanceof PyTuple ? size.items : null;
    const steps = stride instanceof PyTuple ? stride.items : null;
    if (!dims || !steps || dims.length !== steps.length || !dims.every(isCount) || !steps.every(isCount)) {
      throw this.fail("a tensor's size and stride are not two tuples of counts of one length");
    }
    return new TensorRef(storage, offset, dims as number[], steps as number[]);
  }
}

function isCount(v: PickleValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A number where it is exact, else the BigInt. */
function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A name from the file, printable and short. */
function shown(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 120 ? `${clean.slice(0, 117)}...` : clean;
}
