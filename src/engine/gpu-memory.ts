/**
 * GPU memory as the tfjs WebGPU backend's buffer pool sees it. `measureGpuMemory` empties the
 * pool of free buffers, runs the work, waits for the GPU, and reports how far the pool grew
 * (freed buffers return to the pool, so its growth is the peak of concurrently held bytes,
 * uniforms and temporaries included) and the largest buffer created meanwhile.
 */
import { flushGpu, webgpuBackend } from './tf-backend';

/** The private fields of tfjs' BufferManager that we read (tfjs-backend-webgpu 4.22). */
interface BufferPool {
  freeBuffers: Map<string, GPUBuffer[]>;
  usedBuffers: Map<string, GPUBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

function pool(): BufferPool {
  return (webgpuBackend() as unknown as { bufferManager: BufferPool }).bufferManager;
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
  result: T;
  /** Growth of the backend's allocated bytes over the call. */
  peakBytes: number;
  /** Size of the largest buffer allocated during the call. */
  largestBufferBytes: number;
}

export async function measureGpuMemory<T>(fn: () => T): Promise<GpuMemoryUse<T>> {
  await flushGpu();
  trimBufferPool();
  const p = pool();
  const before = p.numBytesAllocated;
  const existing = new Set<GPUBuffer>([...p.usedBuffers.values()].flat());
  const result = fn();
  await flushGpu();
  let largestBufferBytes = 0;
  for (const b of [...p.usedBuffers.values(), ...p.freeBuffers.values()].flat()) {
    if (!existing.has(b)) largestBufferBytes = Math.max(largestBufferBytes, b.size);
  }
  return { result, peakBytes: p.numBytesAllocated - before, largestBufferBytes };
}
