import { expect, test } from '@playwright/test';
import { Studio } from './studio';

test('without WebGPU the studio explains which browsers and flags work', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  const screen = page.getByTestId('webgpu-unavailable');
  await expect(screen.getByRole('heading', { level: 1 })).toHaveText('WebGPU is unavailable');
  await expect(screen).toContainText('enable-unsafe-webgpu');
  await expect(screen).toContainText('Safari');
  await studio.screenshot('webgpu-unavailable');
  studio.expectNoErrors();
});
