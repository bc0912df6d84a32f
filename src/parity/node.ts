/**
 * `npm run parity -- --model <diffusers folder> --golden <golden folder>`: computes every golden
 * tensor our code can produce and prints `name max_abs_err max_abs_golden rel_err ok|FAIL` per
 * tensor, then `N passed, N failed`; exits non-zero when any tensor is past its tolerance.
 */
import { existsSync, openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { startNodeWebGpu } from '../gpu/node-webgpu';

function arg(args: string[], flag: string): string {
  const i = args.indexOf(flag);
  if (i < 0 || !args[i + 1]) throw new Error(`usage: npm run parity -- --model <diffusers folder> --golden <golden folder> (missing ${flag})`);
  return args[i + 1];
}

export async function main(args: string[]): Promise<number> {
  const modelDir = arg(args, '--model');
  const goldenDir = arg(args, '--golden');
  const { device } = await startNodeWebGpu();
  const { loadStableDiffusion } = await import('../model/load');
  const { Golden } = await import('./golden');
  const { runParity } = await import('./parity');
  const { nodeFolderSource } = await import('../model/sources/node-folder');
  const gpuErrors: string[] = [];
  device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));

  const golden = await Golden.open(async (path) => (existsSync(join(goldenDir, path)) ? openAsBlob(join(goldenDir, path)) : null));
  const model = await loadStableDiffusion(nodeFolderSource(modelDir));
  try {
    const lines = await runParity(model, golden, (line) => console.log(line));
    await device.queue.onSubmittedWorkDone();
    for (const message of new Set(gpuErrors)) console.error(`WebGPU error: ${message}`);
    const passed = lines.filter((l) => l.ok).length;
    const failed = lines.length - passed + (gpuErrors.length > 0 ? 1 : 0);
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 && lines.length > 0 ? 0 : 1;
  } finally {
    model.dispose();
    device.destroy();
  }
}
