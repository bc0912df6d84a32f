import { expect, test } from '@playwright/test';
import { Studio } from './studio';

test('README start command: the dev server serves the studio and it reaches the GPU', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await expect(studio.adapterName()).toContainText(/swiftshader/i);
  await studio.screenshot('dev-server');
  studio.expectNoErrors();
});
