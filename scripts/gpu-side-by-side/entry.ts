// The bundle's entry: `node bench.mjs [args]` runs the studio's half, `node bench.mjs ratios A B` the table.
import { createRequire } from 'node:module';
import { main } from '../../src/bench/side-by-side';

// tfjs-core's ESM build reaches Node built-ins through a global `require` (as scripts/ts-runner.mjs sets it).
(globalThis as { require?: NodeRequire }).require = createRequire(import.meta.url);
process.exitCode = await main(process.argv.slice(2));
