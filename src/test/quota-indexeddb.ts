/**
 * fake-indexeddb with a storage quota, as browsers have one: a readwrite transaction whose puts
 * would take the stored bytes past `quotaBytes` aborts, and its `error` is a QuotaExceededError
 * DOMException. Bytes are those of the typed arrays in the values put (the tensors fill a disk);
 * committed puts count for good (deletes free nothing), which is enough to test a full disk.
 */
import { IDBFactory } from 'fake-indexeddb';

type Overrides<T> = { [K in keyof T]?: (target: T) => unknown };

/** `target` with some properties answered by `overrides`; methods stay bound to `target`. */
function wrap<T extends object>(target: T, overrides: Overrides<T>): T {
  return new Proxy(target, {
    get(t, key) {
      const override = overrides[key as keyof T];
      if (override) return override(t);
      const value = Reflect.get(t, key, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
    set: (t, key, value) => Reflect.set(t, key, value, t),
  });
}

function typedBytes(value: unknown, seen = new Set<unknown>()): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  return Object.values(value).reduce((sum: number, v) => sum + typedBytes(v, seen), 0);
}

export function indexedDbWithQuota(quotaBytes: number): IDBFactory {
  let used = 0;
  const transaction = (tx: IDBTransaction): IDBTransaction => {
    let pending = 0;
    let refused: DOMException | null = null;
    tx.addEventListener('complete', () => (used += pending));
    const put = (store: IDBObjectStore) => (value: unknown, key?: IDBValidKey) => {
      const r = store.put(value, key);
      pending += typedBytes(value);
      if (used + pending > quotaBytes && !refused) {
        refused = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        store.count().onsuccess = () => tx.abort(); // after the puts already made, as a commit would fail
      }
      return r;
    };
    return wrap(tx, {
      error: (t) => refused ?? t.error,
      objectStore: (t) => (name: string) => wrap(t.objectStore(name), { put }),
    });
  };
  const database = (db: IDBDatabase) => wrap(db, { transaction: (d) => (...args: Parameters<IDBDatabase['transaction']>) => transaction(d.transaction(...args)) });
  return wrap(new IDBFactory(), {
    open: (f) => (name: string, version?: number) => wrap(f.open(name, version), { result: (r) => database(r.result) }),
  });
}
