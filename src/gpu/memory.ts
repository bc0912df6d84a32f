/**
 * GPU memory as the tfjs WebGPU backend's buffer pool sees it. Freed buffers return to the pool
 * for reuse, one set per distinct size; `disposeUnpooled` frees a big one-off temporary straight
 * back to the device instead. `measureGpuMemory` empties the pool, runs the work, waits for the
 * GPU, and reports the high-water mark of allocated bytes (uniforms and temporaries included)
 * and the largest buffer created meanwhile.
 */
import type * as tf from './tf';
import { flushGpu, submitRecorded, webgpuBackend } from './tf-backend';

/** The private fields of tfjs' BufferManager that we read and wrap (tfjs-backend-webgpu 4.22). */
interface BufferPool {
  freeBuffers: Map<string, GPUBuffer[]>;
  usedBuffers: Map<string, GPUBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer;
  releaseBuffer(buffer: GPUBuffer, reuse?: boolean): void;
  numBytesUsed: number;
}

/** Per pool: high-water marks of allocated and of in-use bytes, buffers to destroy when released, and the most free bytes kept. */
interface Tracking {
  highWater: number;
  usedHighWater: number;
  unpooled: WeakSet<GPUBuffer>;
  freeLimit: number;
  /** `recordHighWaterBuffers`: the sizes of the buffers in use when the in-use high-water was last raised. */
  inUseAtHighWater: number[] | null;
  /** Buffers in use when recording began (left out of `inUseAtHighWater`). */
  recordedFrom: WeakSet<GPUBuffer>;
}

const tracking = new WeakMap<BufferPool, Tracking>();

/** The backend's pool, wrapped once to keep a high-water mark and honour `disposeUnpooled`. */
function pool(): BufferPool {
  const p = (webgpuBackend() as unknown as { bufferManager: BufferPool }).bufferManager;
  if (!tracking.has(p)) {
    const t: Tracking = { highWater: p.numBytesAllocated, usedHighWater: p.numBytesUsed, unpooled: new WeakSet(), freeLimit: Infinity, inUseAtHighWater: null, recordedFrom: new WeakSet() };
    const acquire = p.acquireBuffer.bind(p);
    const release = p.releaseBuffer.bind(p);
    p.acquireBuffer = (size, usage, mappedAtCreation, reuse = true) => {
      if (t.freeLimit < Infinity && !p.freeBuffers.get(`${size}_${usage}`)?.length) evictFree(p, t.freeLimit - size);
      const buffer = acquire(size, usage, mappedAtCreation, reuse);
      t.highWater = Math.max(t.highWater, p.numBytesAllocated);
      if (p.numBytesUsed > t.usedHighWater) {
        t.usedHighWater = p.numBytesUsed;
        if (t.inUseAtHighWater) t.inUseAtHighWater = [...p.usedBuffers.values()].flat().filter((b) => !t.recordedFrom.has(b)).map((b) => b.size);
      }
      return buffer;
    };
    p.releaseBuffer = (buffer, reuse = true) => release(buffer, reuse && !t.unpooled.has(buffer));
    tracking.set(p, t);
  }
  return p;
}

/**
 * Frees `tensor` and returns its GPU buffer to the device rather than to the pool. For big
 * temporaries of many sizes, such as unpacked conv filters: pooled, each size would stay
 * allocated for good. With `submit`, at once: the commands recorded so far (those using it) are
 * submitted now, not after tfjs's next batch of dispatches, where several would be alive at once.
 * A submit has its cost (one per small conv made a tiny model's training step 1.5× slower), so
 * callers ask for it where the buffer is big.
 */
export function disposeUnpooled(tensor: tf.Tensor, submit = false): void {
  const p = pool();
  const data = (webgpuBackend() as unknown as { tensorMap: { get(id: unknown): { resource?: unknown } | undefined } }).tensorMap.get(tensor.dataId);
  if (data?.resource instanceof GPUBuffer) tracking.get(p)!.unpooled.add(data.resource);
  tensor.dispose();
  if (submit) submitRecorded();
}

/**
 * Destroys pooled free buffers, largest first, until at most `keep` free bytes remain. Free
 * buffers are past their last submitted use (tfjs releases after submitting), so destroying one
 * is as safe as tfjs's own unpooled release.
 */
function evictFree(p: BufferPool, keep: number): void {
  let free = p.numBytesAllocated - p.numBytesUsed;
  if (free <= keep) return;
  const lists = [...p.freeBuffers.values()].filter((l) => l.length).sort((a, b) => b[0].size - a[0].size);
  for (const list of lists) {
    while (list.length && free > keep) {
      const b = list.pop()!;
      p.numBytesAllocated -= b.size;
      p.numFreeBuffers--;
      free -= b.size;
      b.destroy();
    }
    if (free <= keep) return;
  }
}

/**
 * Allocated bytes now, the most allocated at any moment since `resetHighWater`, and the most of
 * them in use by live tensors and pending work (the rest of the high-water was pooled free buffers).
 */
export function gpuAllocation(): { allocated: number; highWater: number; usedHighWater: number } {
  const p = pool();
  const t = tracking.get(p)!;
  return { allocated: p.numBytesAllocated, highWater: t.highWater, usedHighWater: t.usedHighWater };
}

export function resetHighWater(): void {
  const p = pool();
  const t = tracking.get(p)!;
  t.highWater = p.numBytesAllocated;
  t.usedHighWater = p.numBytesUsed;
}

/** Destroys every pooled free buffer (their bytes go back to the device). */
export function trimBufferPool(): void {
  evictFree(pool(), 0);
}

/**
 * Caps the bytes the pool keeps in free buffers: before a buffer is created anew, free ones are
 * destroyed (largest first) so that free bytes stay within `bytes`. `Infinity` (the default) keeps
 * every freed buffer for reuse, as tfjs does. For long passes over many buffer sizes (a training
 * step at 512 px), where pooled sizes that never come back would otherwise add to the peak.
 */
export function limitPooledFreeBytes(bytes: number): void {
  const p = pool();
  tracking.get(p)!.freeLimit = bytes;
  if (bytes < Infinity) evictFree(p, bytes);
}

/**
 * For measurements: from now on, keep the sizes of the buffers in use at each new in-use
 * high-water, except those in use now (`inUseAtHighWater` reads them, largest first). Costs a
 * walk over the pool per new mark.
 */
export function recordHighWaterBuffers(): void {
  const p = pool();
  const t = tracking.get(p)!;
  t.inUseAtHighWater = [];
  t.recordedFrom = new WeakSet([...p.usedBuffers.values()].flat());
}

export function inUseAtHighWater(): number[] {
  return [...(tracking.get(pool())!.inUseAtHighWater ?? [])].sort((a, b) => b - a);
}

export function pooledFreeBytesLimit(): number {
  return tracking.get(pool())!.freeLimit;
}

export interface GpuMemoryUse<T> {
  result: Awaited<T>;
  /** Growth of the backend's allocated bytes over the call. */
  peakBytes: number;
  /** Size of the largest buffer allocated during the call. */
  largestBufferBytes: number;
}

/** `fn` may be async (a load): its bytes count until its promise settles. */
export async function measureGpuMemory<T>(fn: () => T): Promise<GpuMemoryUse<T>> {
  await flushGpu();
  trimBufferPool();
  const p = pool();
  resetHighWater();
  const before = p.numBytesAllocated;
  const existing = new Set<GPUBuffer>([...p.usedBuffers.values()].flat());
  const result = await fn();
  await flushGpu();
  let largestBufferBytes = 0;
  for (const b of [...p.usedBuffers.values(), ...p.freeBuffers.values()].flat()) {
    if (!existing.has(b)) largestBufferBytes = Math.max(largestBufferBytes, b.size);
  }
  return { result, peakBytes: tracking.get(p)!.highWater - before, largestBufferBytes };
}
