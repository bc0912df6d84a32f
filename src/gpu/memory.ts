/**
 * GPU memory as the tfjs WebGPU backend's buffer pool sees it. Freed buffers return to the pool
 * for reuse, one set per distinct size; `disposeUnpooled` frees a big one-off temporary straight
 * back to the device instead. `measureGpuMemory` empties the pool, runs the work, waits for the
 * GPU, and reports the high-water mark of allocated bytes (uniforms and temporaries included)
 * and the largest buffer created meanwhile.
 */
import type * as tf from './tf';
import { flushGpu, webgpuBackend } from './tf-backend';

/** The private fields of tfjs' BufferManager that we read and wrap (tfjs-backend-webgpu 4.22). */
interface BufferPool {
  freeBuffers: Map<string, GPUBuffer[]>;
  usedBuffers: Map<string, GPUBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer;
  releaseBuffer(buffer: GPUBuffer, reuse?: boolean): void;
}

/** Per pool: the high-water mark of allocated bytes, and buffers to destroy when released. */
interface Tracking {
  highWater: number;
  unpooled: WeakSet<GPUBuffer>;
}

const tracking = new WeakMap<BufferPool, Tracking>();

/** The backend's pool, wrapped once to keep a high-water mark and honour `disposeUnpooled`. */
function pool(): BufferPool {
  const p = (webgpuBackend() as unknown as { bufferManager: BufferPool }).bufferManager;
  if (!tracking.has(p)) {
    const t: Tracking = { highWater: p.numBytesAllocated, unpooled: new WeakSet() };
    const acquire = p.acquireBuffer.bind(p);
    const release = p.releaseBuffer.bind(p);
    p.acquireBuffer = (...args) => {
      const buffer = acquire(...args);
      t.highWater = Math.max(t.highWater, p.numBytesAllocated);
      return buffer;
    };
    p.releaseBuffer = (buffer, reuse = true) => release(buffer, reuse && !t.unpooled.has(buffer));
    tracking.set(p, t);
  }
  return p;
}

/**
 * Frees `tensor` and returns its GPU buffer to the device rather than to the pool (once the
 * commands using it are submitted). For big temporaries of many sizes, such as unpacked conv
 * filters: pooled, each size would stay allocated for good.
 */
export function disposeUnpooled(tensor: tf.Tensor): void {
  const p = pool();
  const data = (webgpuBackend() as unknown as { tensorMap: { get(id: unknown): { resource?: unknown } | undefined } }).tensorMap.get(tensor.dataId);
  if (data?.resource instanceof GPUBuffer) tracking.get(p)!.unpooled.add(data.resource);
  tensor.dispose();
}

/** Allocated bytes now, and the most allocated at any moment since `resetHighWater`. */
export function gpuAllocation(): { allocated: number; highWater: number } {
  const p = pool();
  return { allocated: p.numBytesAllocated, highWater: tracking.get(p)!.highWater };
}

export function resetHighWater(): void {
  const p = pool();
  tracking.get(p)!.highWater = p.numBytesAllocated;
}

/** Destroys every pooled free buffer (their bytes go back to the device). */
export function trimBufferPool(): void {
  const p = pool();
  for (const buffers of p.freeBuffers.values()) {
    for (const b of buffers.splice(0)) {
      p.numBytesAllocated -= b.size;
      b.destroy();
    }
  }
  p.numFreeBuffers = 0;
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
