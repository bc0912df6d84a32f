// Bundles src/bench/side-by-side.ts, tfjs and every other dependency into one ES module,
// OUT_DIR/bench.mjs, with Vite (so `?raw` WGSL imports resolve as in the app). Only Node's
// built-ins stay outside; npm `webgpu` loads its dawn.node from OUT_DIR/dist/linux-x64/
// (its index.js looks beside itself, which is the bundle), where prepare.sh puts it.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = process.argv[2] ?? `${root}.side-by-side`;
await build({
  root,
  configFile: `${root}vite.config.ts`,
  logLevel: 'warn',
  publicDir: false,
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: fileURLToPath(new URL('./entry.ts', import.meta.url)),
    outDir,
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    rollupOptions: { output: { format: 'es', entryFileNames: 'bench.mjs', codeSplitting: false } },
  },
});
