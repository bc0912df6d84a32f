// `npm run bench [-- NAME...]`: loads src/bench/node.ts through Vite (so `?raw` WGSL imports and
// tfjs resolve exactly as in the app) and runs the benchmarks on Dawn.
import { createRequire } from 'node:module';
import { createServer, createServerModuleRunner } from 'vite';

// tfjs-core's ESM build reaches Node built-ins through a global `require` when it runs in Node.
globalThis.require = createRequire(import.meta.url);

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
  const { main } = await runner.import('/src/bench/node.ts');
  await main(process.argv.slice(2));
} catch (error) {
  console.error(error);
  code = 1;
} finally {
  await server.close();
}
process.exit(code);
