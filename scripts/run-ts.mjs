// `node scripts/run-ts.mjs <module.ts> [args...]`: runs a TypeScript module's `main(args)` in Node
// through Vite's module runner, so `?raw` WGSL imports and tfjs resolve exactly as in the app.
// Used by `npm run bench` and `npm run parity`.
import { createRequire } from 'node:module';
import { createServer, createServerModuleRunner } from 'vite';

// tfjs-core's ESM build reaches Node built-ins through a global `require` when it runs in Node.
globalThis.require = createRequire(import.meta.url);

const [entry, ...args] = process.argv.slice(2);
const server = await createServer({
  configFile: new URL('../vite.config.ts', import.meta.url).pathname,
  logLevel: 'error',
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
process.exit(code);
