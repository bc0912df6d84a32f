#!/usr/bin/env node
// `studio …`: the studio's command line (src/cli/main.ts), run in Node through Vite's module
// runner (scripts/ts-runner.mjs), on Dawn's WebGPU, with the same engine code as the page.
import { runTs } from '../scripts/ts-runner.mjs';

process.exit(await runTs('src/cli/main.ts', process.argv.slice(2)));
