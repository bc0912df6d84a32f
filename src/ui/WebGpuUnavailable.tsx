import type { SerializedError } from '../common/errors';

/** Full-page explanation shown instead of the studio when the browser gives us no GPU. */
export function WebGpuUnavailable({ error }: { error: SerializedError }) {
  return (
    <main className="unavailable" data-testid="webgpu-unavailable">
      <h1>WebGPU is unavailable</h1>
      <p>
        This studio teaches and runs diffusion models on your own GPU, inside this page, so your photos never leave your
        device. It needs WebGPU, which this browser did not provide.
      </p>
      <p className="muted">Details: {error.message}</p>
      <h2>Browsers that work</h2>
      <ul>
        <li>Chrome or Edge 113 or newer on Windows, macOS and ChromeOS; Chrome 121 or newer on Android 12+.</li>
        <li>
          Chrome on Linux: open <code>chrome://flags/#enable-unsafe-webgpu</code> and <code>chrome://flags/#enable-vulkan</code>,
          enable both and restart, or start it with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>.
        </li>
        <li>Safari 26 or newer on macOS, iOS and iPadOS.</li>
        <li>Firefox 141 or newer on Windows; on other systems set <code>dom.webgpu.enabled</code> in about:config.</li>
      </ul>
      <p>
        If your browser is on this list, WebGPU may be turned off by policy or your GPU may be blocklisted: check{' '}
        <code>chrome://gpu</code> (or your browser's equivalent) and update your graphics driver.
      </p>
    </main>
  );
}
