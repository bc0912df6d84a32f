/**
 * Adapter and device acquisition. We ask for the adapter's maxima of the limits that bound model
 * size and kernel tiling, and every optional feature our kernels can use, then freeze what we got
 * into a plain `GpuCapabilities` record that can cross to the UI.
 */
import { errorMessage, StudioError, WEBGPU_HINT } from '../common/errors';

/** Limits we raise to the adapter's maximum (the defaults cap buffers at 256 MiB). */
export const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
] as const;

/** Limits reported to the UI (what we requested, plus the ones kernels tile against). */
export const REPORTED_LIMITS = [
  ...REQUESTED_LIMITS,
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export const OPTIONAL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

export type ReportedLimit = (typeof REPORTED_LIMITS)[number];
export type OptionalFeature = (typeof OPTIONAL_FEATURES)[number];

export interface GpuCapabilities {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  limits: Record<ReportedLimit, number>;
  /** Optional features enabled on our device. */
  features: OptionalFeature[];
}

export interface Gpu {
  adapter: GPUAdapter;
  device: GPUDevice;
  capabilities: GpuCapabilities;
}

export async function requestGpu(gpu: GPU | undefined): Promise<Gpu> {
  if (!gpu) {
    throw new StudioError('WebGpuUnavailable', 'This browser does not provide WebGPU (navigator.gpu is missing).', WEBGPU_HINT);
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    throw new StudioError('AdapterUnavailable', `The GPU adapter request was rejected: ${String(error)}`, WEBGPU_HINT);
  }
  if (!adapter) {
    throw new StudioError(
      'AdapterUnavailable',
      'WebGPU is present but no GPU adapter is available (it may be disabled or blocklisted).',
      WEBGPU_HINT,
    );
  }

  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features as GPUFeatureName[] });
  } catch (error) {
    throw new StudioError(
      'DeviceRequestFailed',
      `The GPU refused to create a device: ${errorMessage(error)}`,
      'Close other tabs that use the GPU and reload the page.',
    );
  }

  const limits = {} as Record<ReportedLimit, number>;
  for (const name of REPORTED_LIMITS) limits[name] = device.limits[name];
  const info = adapter.info;
  const capabilities: GpuCapabilities = {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    limits,
    features,
  };
  return { adapter, device, capabilities: deepFreeze(capabilities) };
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(value);
}
