// Runs a TypeScript module's `main(args)` in Node through Vite's module runner, so `?raw` WGSL
// imports and tfjs resolve exactly as in the app. Shared by scripts/run-ts.mjs (benchmarks,
// parity) and bin/studio.mjs (the command line). Vite logs errors only, on stderr: stdout is the
// tool's own.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createServer, createServerModuleRunner } from 'vite';

/** The repository root (where vite.config.ts is). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Imports `entry` (a path from the repository root, e.g. `src/cli/main.ts`) and awaits its
 * `main(args)`; resolves with its exit code (0 when it returns nothing). A module that fails to
 * load, or a `main` that throws, is printed with its stack and gives 1.
 */
export async function runTs(entry, args) {
  // tfjs-core's ESM build reaches Node built-ins through a global `require` when it runs in Node.
  globalThis.require = createRequire(import.meta.url);
  const server = await createServer({
    root: ROOT,
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    logLevel: 'error',
    clearScreen: false,
    server: { middlewareMode: true, hmr: false, ws: false },
    ssr: { noExternal: [/@tensorflow\//] },
    appType: 'custom',
  });
  let code = 0;
  try {
    const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
    const { main } = await runner.import(`/${entry}`);
    code = (await main(args)) ?? 0;
  } catch (error) {
    console.error(error);
    code = 1;
  } finally {
    await server.close();
  }
  return code;
}
