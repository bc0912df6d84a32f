// `npm test`: type-check, unit/kernel tests (Vitest on Dawn WebGPU), the parity command on the
// public tiny-sd fixture against its golden and the methods golden (Perfusion, P+, DreamBooth), then the browser e2e tests (Playwright on Debian's Chromium), and one
// closing line "Tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

const RESULTS = 'test-results';
const VITEST_JSON = `${RESULTS}/vitest.json`;
const PLAYWRIGHT_JSON = `${RESULTS}/playwright.json`;

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

/** Runs the parity command, echoing its output; returns its own "N passed, N failed" counts. */
function parity(golden) {
  const args = ['run', '--silent', 'parity', '--', '--model', 'src/test/fixtures/tiny-sd', '--golden', golden];
  const result = spawnSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  process.stdout.write(result.stdout ?? '');
  const m = /^(\d+) passed, (\d+) failed$/m.exec(result.stdout ?? '');
  return { ok: result.status === 0, counts: m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: 0 } : null };
}

function vitestCounts() {
  if (!existsSync(VITEST_JSON)) return null;
  const r = JSON.parse(readFileSync(VITEST_JSON, 'utf8'));
  return { passed: r.numPassedTests, failed: r.numFailedTests + (r.numFailedTestSuites ?? 0), skipped: r.numPendingTests + r.numTodoTests };
}

function playwrightCounts() {
  if (!existsSync(PLAYWRIGHT_JSON)) return null;
  const s = JSON.parse(readFileSync(PLAYWRIGHT_JSON, 'utf8')).stats;
  return { passed: s.expected + s.flaky, failed: s.unexpected, skipped: s.skipped };
}

/** Ports free on 127.0.0.1 now (held together, so all differ): the e2e servers' ports, unless set, so two copies of the suite can run at once. */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => String(s.address().port));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
const PORT_NAMES = ['E2E_PORT', 'E2E_DEV_PORT', 'E2E_HUB_PORT'];
const picked = await freePorts(PORT_NAMES.length);
const e2ePorts = Object.fromEntries(PORT_NAMES.map((name, i) => [name, process.env[name] ?? picked[i]]));

rmSync(VITEST_JSON, { force: true });
rmSync(PLAYWRIGHT_JSON, { force: true });
mkdirSync(RESULTS, { recursive: true });

const steps = [];
steps.push(['type-check', run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])]);
steps.push(['unit', run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${VITEST_JSON}`])]);
const parityRun = parity('src/test/fixtures/tiny-sd-golden');
steps.push(['parity', parityRun.ok]);
const methodsParityRun = parity('src/test/fixtures/tiny-sd-golden-methods');
steps.push(['parity (methods)', methodsParityRun.ok]);
steps.push(['build', run('npx', ['vite', 'build'])]);
steps.push(['e2e', steps.at(-1)[1] && run('npx', ['playwright', 'test'], e2ePorts)]);

const counts = [vitestCounts(), parityRun.counts, methodsParityRun.counts, playwrightCounts()].filter(Boolean);
const total = (key) => counts.reduce((sum, c) => sum + c[key], 0);
const failedSteps = steps.filter(([, ok]) => !ok).map(([name]) => name);
let failed = total('failed');
if (failedSteps.length > 0 && failed === 0) failed = failedSteps.length; // a step that broke before counting
console.log(failedSteps.length ? `\nFailed steps: ${failedSteps.join(', ')}` : '');
const skipped = total('skipped');
console.log(`Tests: ${total('passed')} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failedSteps.length ? 1 : 0);
