import { defineConfig } from '@playwright/test';
import { FIXTURE_HUB, FIXTURE_HUB_PORT } from './e2e/fixture-hub';

/** Debian's Chromium: Playwright never downloads a browser here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** E2E_PORT / E2E_DEV_PORT / E2E_HUB_PORT: several checkouts can run the suite side by side. */
const PORT = Number(process.env.E2E_PORT ?? 4173);
/** `npm run dev`'s port (vite.config.ts). */
const DEV_PORT = Number(process.env.E2E_DEV_PORT ?? 5173);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]], // json: read by scripts/run-tests.mjs
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    screenshot: 'on',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'webgpu',
      testMatch: /\.spec\.ts$/,
      testIgnore: /(dev-server|no-webgpu)\.spec\.ts$/,
      use: { launchOptions: { executablePath: CHROMIUM, args: [...BASE_FLAGS, '--enable-unsafe-webgpu'] } },
    },
    {
      // README's start command (`npm run dev`): the studio as a newcomer first sees it.
      name: 'dev-server',
      testMatch: /dev-server\.spec\.ts/,
      use: { baseURL: `http://127.0.0.1:${DEV_PORT}`, launchOptions: { executablePath: CHROMIUM, args: [...BASE_FLAGS, '--enable-unsafe-webgpu'] } },
    },
    {
      name: 'no-webgpu',
      testMatch: /no-webgpu\.spec\.ts/,
      use: { launchOptions: { executablePath: CHROMIUM, args: BASE_FLAGS } },
    },
  ],
  webServer: [
    {
      command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
      url: `http://127.0.0.1:${PORT}`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
    {
      command: `npm run dev -- --strictPort --port ${DEV_PORT}`,
      url: `http://127.0.0.1:${DEV_PORT}`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
    {
      // A local stand-in for the Hugging Face hub serving the tiny-sd fixture (same URL scheme).
      command: `node scripts/run-ts.mjs src/test/serve-fixture.ts ${FIXTURE_HUB_PORT}`,
      url: `${FIXTURE_HUB}/fixtures/tiny-sd/resolve/main/model_index.json`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
  ],
});
