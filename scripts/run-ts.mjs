// `node scripts/run-ts.mjs <module.ts> [args...]`: runs a TypeScript module's `main(args)` in Node
// through Vite's module runner (scripts/ts-runner.mjs), so `?raw` WGSL imports and tfjs resolve
// exactly as in the app. Used by `npm run bench` and `npm run parity`.
import { runTs } from './ts-runner.mjs';

const [entry, ...args] = process.argv.slice(2);
process.exit(await runTs(entry, args));
