/**
 * Real WebGPU in Node: Dawn (npm `webgpu`) over a Vulkan software driver.
 *
 * Driver order: $VK_ICD_FILENAMES if set, else Mesa lavapipe (about 7x faster; Mesa >= 25 is
 * needed, Debian 12's own Mesa 22 is rejected by Dawn), else the SwiftShader ICD shipped by
 * Debian's chromium package. Must run before the tfjs WebGPU backend is imported, since that
 * module reads `navigator.gpu` when it loads.
 */
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

const DRIVERS = [
  '/usr/share/vulkan/icd.d/lvp_icd.json',
  '/usr/lib/chromium/vk_swiftshader_icd.json',
];

export function installNodeWebGpu(): GPU {
  if (!process.env.VK_ICD_FILENAMES) {
    const driver = DRIVERS.find((path) => existsSync(path));
    if (!driver) {
      throw new Error(
        'No Vulkan software driver found: install `mesa-vulkan-drivers` from bookworm-backports ' +
          'or `chromium` (see .ci/run).',
      );
    }
    process.env.VK_ICD_FILENAMES = driver;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  Object.assign(globalThis, globals);
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, userAgent: 'node' },
    configurable: true,
  });
  return gpu;
}

/**
 * Real WebGPU in Node with the studio's own device request and tfjs backend (as the engine
 * worker builds them): what tests, benchmarks and the parity command all start from.
 */
export async function startNodeWebGpu() {
  const gpu = installNodeWebGpu();
  // Imported only now: the tfjs WebGPU backend reads navigator.gpu when it loads.
  const { requestGpu } = await import('./device');
  const { installWebGpuBackend } = await import('./tf-backend');
  const { adapter, device, capabilities } = await requestGpu(gpu);
  await installWebGpuBackend(device, adapter.info);
  return { device, capabilities };
}
