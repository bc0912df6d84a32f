import { expect, test } from '@playwright/test';
import { Studio } from './studio';

test('README start command: the dev server serves the studio, it reaches the GPU and opens on the built-in model, offline', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  const hosts = studio.recordRequestHosts();
  await studio.open();
  await studio.waitForGpu();
  await expect(studio.adapterName()).toContainText(/swiftshader/i);
  await studio.waitForBuiltinModel();
  expect([...hosts]).toEqual(['127.0.0.1']);
  await studio.screenshot('dev-server');
  studio.expectNoErrors();
});
