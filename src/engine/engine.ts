/**
 * The engine: owns the GPU device, the tensor backend and (later) the loaded model and every
 * job. Plain class, no worker code, so it runs in Node tests on Dawn exactly as in the worker.
 */
import * as tf from './tf';
import { EngineError } from './errors';
import { requestGpu, type Gpu, type GpuCapabilities } from './gpu';
import type { EngineEvent, EngineMemory, ResultOf } from './protocol';
import { installWebGpuBackend } from './tf-backend';

export class Engine {
  private gpu: Gpu | null = null;
  private starting: Promise<GpuCapabilities> | null = null;
  private lost: Promise<EngineEvent> | null = null;

  constructor(
    private readonly navigatorGpu: GPU | undefined,
    private readonly emit: (event: EngineEvent) => void,
  ) {}

  init(): Promise<ResultOf<'init'>> {
    this.starting ??= this.start().catch((error) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  private async start(): Promise<GpuCapabilities> {
    const gpu = await requestGpu(this.navigatorGpu);
    this.lost = gpu.device.lost.then((info) => {
      const event: EngineEvent = {
        type: 'device-lost',
        reason: info.reason === 'destroyed' ? 'destroyed' : 'unknown',
        message: info.message || 'The GPU device was lost.',
      };
      this.gpu = null;
      this.starting = null;
      this.emit(event);
      return event;
    });
    await installWebGpuBackend(gpu.device, gpu.adapter.info);
    this.gpu = gpu;
    return gpu.capabilities;
  }

  async releaseDevice(): Promise<ResultOf<'releaseDevice'>> {
    const gpu = this.requireGpu();
    gpu.device.destroy();
    await this.lost;
    return null;
  }

  memory(): ResultOf<'memory'> {
    this.requireGpu();
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
    const memory: EngineMemory = {
      bytesInUse: m.numBytesInGPU ?? 0,
      bytesAllocated: m.numBytesAllocatedInGPU ?? 0,
      tensors: m.numTensors,
    };
    return memory;
  }

  private requireGpu(): Gpu {
    if (!this.gpu) throw new EngineError('EngineNotReady', 'The GPU is not connected.', 'Reconnect the GPU from the GPU panel.');
    return this.gpu;
  }
}
